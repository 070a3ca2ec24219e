-- Portable across SQLite, PostgreSQL and MySQL/MariaDB.
CREATE TABLE greetings (
    lang VARCHAR(16) PRIMARY KEY,
    text VARCHAR(200) NOT NULL
);

INSERT INTO greetings (lang, text) VALUES ('en', 'Hello'), ('fr', 'Bonjour'), ('de', 'Hallo');
