-- PostgreSQL drops the reference from notices to awards here (its check locked each award
-- row). SQLite checks a reference by a plain index lookup without locking: it keeps it.
SELECT 1;
