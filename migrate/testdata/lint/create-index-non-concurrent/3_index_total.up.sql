CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_total ON orders (total);
