-- shipyard:ignore missing-down: reference data, kept on purpose
INSERT INTO users (id) VALUES (1);
