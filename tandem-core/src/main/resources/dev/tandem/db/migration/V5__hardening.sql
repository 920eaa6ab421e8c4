-- Placeholder for version 5, which is being written on another branch; that file replaces this one when they merge.
INSERT INTO tandem.schema_version (version) VALUES (5);
