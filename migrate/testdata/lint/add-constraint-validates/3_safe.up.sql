ALTER TABLE orders ADD CONSTRAINT orders_total_ck CHECK (total >= 0) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_user_uq UNIQUE USING INDEX orders_user_idx;
ALTER TABLE orders VALIDATE CONSTRAINT orders_total_ck;
