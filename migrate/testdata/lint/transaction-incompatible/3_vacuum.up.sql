UPDATE orders SET total = 0 WHERE total IS NULL;
VACUUM ANALYZE orders;
