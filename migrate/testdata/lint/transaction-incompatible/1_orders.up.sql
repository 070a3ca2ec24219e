CREATE TABLE orders (id INT, total INT);
CREATE INDEX CONCURRENTLY orders_total ON orders (total);
