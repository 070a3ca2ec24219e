ALTER TABLE users CHANGE email_address email VARCHAR(255);
