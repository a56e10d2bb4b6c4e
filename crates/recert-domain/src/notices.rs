//! The notices an award's holder gets as its expiry comes and goes (SPEC §3.7): a
//! reminder at each of the program's offsets (days before expiry; negative = after), the
//! expiry notice when grace starts, "grace ends in 7 days", and the lapse notice. Which of
//! them is due on a day, and which one to send, is decided here, from dates alone.
//!
//! The rules:
//! - each notice is sent at most once per award (the caller records every stage it has
//!   sent or skipped, and [`plan`] never offers a recorded one again);
//! - when several are due at once — after downtime, or for an award entered after the
//!   fact — only the latest is sent and the earlier ones are skipped, so no one gets a
//!   burst of stale reminders;
//! - a notice more than [`STALE_AFTER_DAYS`] overdue is skipped too: a record imported
//!   years after it lapsed does not announce the lapse today;
//! - two notices that fall on the same day are one message, the weightier one (the expiry
//!   notice rather than a reminder one day after expiry, say).

use crate::Date;
use crate::dates::add_days;

/// A notice more overdue than this is skipped rather than sent.
pub const STALE_AFTER_DAYS: i64 = 30;

/// "Grace ends soon" goes out this many days before the last day of grace.
pub const GRACE_ENDING_DAYS: i64 = 7;

/// One notice of an award's cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// A reminder this many days before expiry (negative: after).
    Reminder(i32),
    /// The award has expired; grace starts.
    Expired,
    /// Grace ends in [`GRACE_ENDING_DAYS`] days.
    GraceEnding,
    /// Grace is over: the award has lapsed.
    Lapsed,
}

impl Stage {
    /// As stored (one row per award and stage): `reminder:90`, `expired`, `grace_ending`,
    /// `lapsed`.
    pub fn key(self) -> String {
        match self {
            Stage::Reminder(d) => format!("reminder:{d}"),
            Stage::Expired => "expired".into(),
            Stage::GraceEnding => "grace_ending".into(),
            Stage::Lapsed => "lapsed".into(),
        }
    }

    /// The stage stored under `key` (see [`Stage::key`]).
    pub fn parse(key: &str) -> Option<Stage> {
        match key {
            "expired" => Some(Stage::Expired),
            "grace_ending" => Some(Stage::GraceEnding),
            "lapsed" => Some(Stage::Lapsed),
            _ => key
                .strip_prefix("reminder:")
                .and_then(|d| d.parse().ok())
                .map(Stage::Reminder),
        }
    }

    /// The webhook event type (SPEC §9) this notice is.
    pub fn event(self) -> &'static str {
        match self {
            Stage::Reminder(_) => "award.reminder",
            Stage::Expired => "award.expired",
            Stage::GraceEnding => "award.grace_ending",
            Stage::Lapsed => "award.lapsed",
        }
    }

    /// Which of two notices due the same day is sent.
    fn weight(self) -> u8 {
        match self {
            Stage::Reminder(_) => 0,
            Stage::GraceEnding => 1,
            Stage::Expired => 2,
            Stage::Lapsed => 3,
        }
    }
}

/// Every notice of an award that expires on `expires_on` with its last day of grace on
/// `grace_ends_on`, under reminder `offsets`, with the day each is due, in order.
pub fn stages(expires_on: Date, grace_ends_on: Date, offsets: &[i32]) -> Vec<(Stage, Date)> {
    let mut out: Vec<(Stage, Date)> = offsets
        .iter()
        .map(|&d| (Stage::Reminder(d), add_days(expires_on, -i64::from(d))))
        .collect();
    out.push((Stage::Expired, add_days(expires_on, 1)));
    let grace_ending = add_days(grace_ends_on, -GRACE_ENDING_DAYS);
    // Only when grace is long enough for the warning to come after the expiry notice.
    if grace_ending > add_days(expires_on, 1) {
        out.push((Stage::GraceEnding, grace_ending));
    }
    out.push((Stage::Lapsed, add_days(grace_ends_on, 1)));
    // A reminder after grace has ended means nothing.
    out.retain(|(s, due)| !matches!(s, Stage::Reminder(_)) || *due <= grace_ends_on);
    out.sort_by_key(|(s, due)| (*due, std::cmp::Reverse(s.weight())));
    // One message a day: the weightiest of the notices due that day.
    out.dedup_by_key(|(_, due)| *due);
    out
}

/// What to do for one award today.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The notice to send now, if any.
    pub send: Option<Stage>,
    /// Notices due but not to be sent (superseded by a later one, or stale): recorded as
    /// skipped so they are never sent.
    pub skip: Vec<Stage>,
    /// When to look at this award again: the next notice's day.
    pub next: Option<Date>,
}

/// The plan for an award on `today`, given its `stages` and those already `recorded`.
pub fn plan(stages: &[(Stage, Date)], recorded: &[Stage], today: Date) -> Plan {
    let due: Vec<&(Stage, Date)> = stages
        .iter()
        .filter(|(s, day)| *day <= today && !recorded.contains(s))
        .collect();
    let mut skip: Vec<Stage> = due.iter().map(|(s, _)| *s).collect();
    let send = due
        .last()
        .filter(|(_, day)| *day >= add_days(today, -STALE_AFTER_DAYS))
        .map(|(s, _)| *s);
    if let Some(s) = send {
        skip.retain(|x| *x != s);
    }
    let next = stages
        .iter()
        .filter(|(s, day)| *day > today && !recorded.contains(s))
        .map(|(_, day)| *day)
        .min();
    Plan { send, skip, next }
}

/// Whether the learner's manager is copied on a notice.
pub fn copies_manager(stage: Stage, escalation_days: i64) -> bool {
    match stage {
        Stage::Reminder(d) => i64::from(d) <= escalation_days,
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    const OFFSETS: [i32; 4] = [90, 60, 30, -1];

    #[test]
    fn a_stage_reads_back_from_its_key() {
        for s in [
            Stage::Reminder(90),
            Stage::Reminder(-1),
            Stage::Expired,
            Stage::GraceEnding,
            Stage::Lapsed,
        ] {
            assert_eq!(Stage::parse(&s.key()), Some(s));
        }
        assert_eq!(Stage::parse("reminder:x"), None);
        assert_eq!(Stage::parse("sent"), None);
    }

    #[test]
    fn a_cycle_has_reminders_expiry_grace_ending_and_lapse_in_order() {
        let s = stages(d("2027-12-31"), d("2028-01-30"), &OFFSETS);
        assert_eq!(
            s,
            vec![
                (Stage::Reminder(90), d("2027-10-02")),
                (Stage::Reminder(60), d("2027-11-01")),
                (Stage::Reminder(30), d("2027-12-01")),
                // The reminder one day after expiry is the expiry notice's day: one message.
                (Stage::Expired, d("2028-01-01")),
                (Stage::GraceEnding, d("2028-01-23")),
                (Stage::Lapsed, d("2028-01-31")),
            ]
        );
        // Without grace: no "grace ends soon", the lapse the day after expiry wins.
        let s = stages(d("2027-12-31"), d("2027-12-31"), &[30]);
        assert_eq!(
            s,
            vec![
                (Stage::Reminder(30), d("2027-12-01")),
                (Stage::Lapsed, d("2028-01-01")),
            ]
        );
    }

    #[test]
    fn each_notice_is_sent_once_on_its_day() {
        let s = stages(d("2027-12-31"), d("2028-01-30"), &OFFSETS);
        let mut recorded = Vec::new();
        let mut sent = Vec::new();
        let mut day = d("2027-09-01");
        while day <= d("2028-03-01") {
            let p = plan(&s, &recorded, day);
            assert!(p.skip.is_empty(), "a daily pass skips nothing: {day} {p:?}");
            if let Some(st) = p.send {
                sent.push((st, day));
                recorded.push(st);
            }
            day = add_days(day, 1);
        }
        assert_eq!(sent, s, "every notice, on its own day, once");
        assert_eq!(plan(&s, &recorded, d("2029-01-01")).next, None);
    }

    #[test]
    fn after_downtime_only_the_latest_due_notice_is_sent() {
        let s = stages(d("2027-12-31"), d("2028-01-30"), &OFFSETS);
        // Down from before the 90-day reminder until after the 30-day one.
        let p = plan(&s, &[], d("2027-12-05"));
        assert_eq!(p.send, Some(Stage::Reminder(30)));
        assert_eq!(p.skip, vec![Stage::Reminder(90), Stage::Reminder(60)]);
        assert_eq!(p.next, Some(d("2028-01-01")));
        // What was recorded is not offered again.
        let p = plan(
            &s,
            &[
                Stage::Reminder(90),
                Stage::Reminder(60),
                Stage::Reminder(30),
            ],
            d("2027-12-06"),
        );
        assert_eq!((p.send, p.skip.len()), (None, 0));
    }

    #[test]
    fn a_record_entered_long_after_it_lapsed_announces_nothing() {
        let s = stages(d("2020-12-31"), d("2021-01-30"), &OFFSETS);
        let p = plan(&s, &[], d("2027-06-15"));
        assert_eq!(p.send, None);
        assert_eq!(p.skip.len(), s.len());
        assert_eq!(p.next, None);
        // Lapsed 10 days ago: the lapse notice still goes.
        let p = plan(&s, &[], d("2021-02-10"));
        assert_eq!(p.send, Some(Stage::Lapsed));
    }

    #[test]
    fn the_manager_is_copied_from_the_escalation_offset_and_after_expiry() {
        assert!(!copies_manager(Stage::Reminder(90), 30));
        assert!(!copies_manager(Stage::Reminder(60), 30));
        assert!(copies_manager(Stage::Reminder(30), 30));
        assert!(copies_manager(Stage::Reminder(-5), 30));
        assert!(copies_manager(Stage::Expired, 30));
        assert!(copies_manager(Stage::Lapsed, 30));
        assert_eq!(Stage::Reminder(-1).key(), "reminder:-1");
        assert_eq!(Stage::GraceEnding.event(), "award.grace_ending");
    }
}
