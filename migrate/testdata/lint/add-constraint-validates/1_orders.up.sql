CREATE TABLE users (id INT PRIMARY KEY);
CREATE TABLE orders (id INT, user_id INT, total INT);
ALTER TABLE orders ADD CONSTRAINT orders_pk PRIMARY KEY (id);
