-- Awards by learner and program: a learner's awards (as before, by its first column) and,
-- in that order, each learner's awards per program, which the compliance report groups by
-- (one pass, no sort: measured by `recert bench compliance_1m`).
CREATE INDEX awards_learner_program ON awards(learner_id, program_id);
DROP INDEX awards_learner;
