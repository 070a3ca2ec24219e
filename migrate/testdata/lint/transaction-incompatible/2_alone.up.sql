CREATE INDEX CONCURRENTLY orders_id ON orders (id);
