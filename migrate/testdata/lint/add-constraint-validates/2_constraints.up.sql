ALTER TABLE orders ADD CONSTRAINT orders_user_fk FOREIGN KEY (user_id) REFERENCES users (id);
ALTER TABLE orders ADD CHECK (total >= 0);
ALTER TABLE orders ADD UNIQUE (user_id, id);
