-- The awards the scheduler is to look at, by day: replaces awards.notice_from.
--
-- A pass takes the entries due, looks at their awards, deletes the entries and adds one
-- for each award's next notice. Keyed by day first, so those writes land on a few
-- neighbouring pages instead of rewriting one awards row (and its index entries) per
-- award (measured with `recert bench reminders_1m`). An award stored or changed gets an
-- entry for its issue day (look at it soon); an entry left behind by a change is dropped
-- when it comes due. No reference to awards: awards are never deleted, and the pass
-- joins them anyway.
CREATE TABLE notice_queue (
    due_on TEXT NOT NULL,
    award_id BIGINT NOT NULL,
    PRIMARY KEY (due_on, award_id)
);
INSERT INTO notice_queue (due_on, award_id) SELECT notice_from, id FROM awards WHERE notice_from IS NOT NULL;
ALTER TABLE awards DROP COLUMN notice_from;
