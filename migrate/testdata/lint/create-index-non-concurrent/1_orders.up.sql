CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT, created_at TIMESTAMP, total INT);
-- a table created in the same file is empty: no one waits
CREATE INDEX orders_user ON orders (user_id);
