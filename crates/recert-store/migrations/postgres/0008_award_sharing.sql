-- Whether the holder turned off the public share page of an award (the verification page
-- stays: anyone holding the ID may still check it).
ALTER TABLE awards ADD COLUMN sharing_off BIGINT NOT NULL DEFAULT 0;
