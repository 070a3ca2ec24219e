CREATE TABLE users (id INT PRIMARY KEY, legacy TEXT, tmp TEXT);
CREATE TABLE scratch (id INT);
DROP TABLE scratch;
