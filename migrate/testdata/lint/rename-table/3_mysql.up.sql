RENAME TABLE accounts TO members, old_log TO log;
