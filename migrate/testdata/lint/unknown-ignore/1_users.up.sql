-- shipyard:ignore create-index-nonconcurrent
CREATE TABLE users (id INT PRIMARY KEY);
