ALTER TABLE users DROP tmp; -- shipyard:ignore drop-without-contract: unused since 2.3
