RENAME TABLE members TO accounts;
