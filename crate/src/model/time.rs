//! Calendar dates as CF files define them.
//!
//! A time value is held as whole seconds since 1970-01-01 00:00:00 *counted in its
//! own calendar*, so a date in the `julian` or `noleap` calendar keeps its own
//! year-month-day when shown or grouped, as the CF conventions (and cftime) do.

use std::fmt;

/// The CF calendars `geoxr` decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Calendar {
    /// `standard` / `gregorian`: Julian before 1582-10-15, Gregorian from then on.
    Standard,
    /// `proleptic_gregorian`: Gregorian rules for every year.
    ProlepticGregorian,
    /// `julian`: a leap year every four years.
    Julian,
    /// `noleap` / `365_day`.
    NoLeap,
    /// `all_leap` / `366_day`.
    AllLeap,
    /// `360_day`: twelve months of 30 days.
    Day360,
}

const SECONDS_PER_DAY: i64 = 86_400;
const CUMULATIVE_DAYS: [i64; 13] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334, 365];
/// Julian day number of the first Gregorian day, 1582-10-15.
const GREGORIAN_START_JDN: i64 = 2_299_161;

impl Calendar {
    /// Parses a CF `calendar` attribute (case-insensitive).
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert_eq!(Calendar::parse("Julian"), Some(Calendar::Julian));
    /// assert_eq!(Calendar::parse("365_day"), Some(Calendar::NoLeap));
    /// ```
    pub fn parse(name: &str) -> Option<Calendar> {
        match name.trim().to_ascii_lowercase().as_str() {
            "standard" | "gregorian" => Some(Calendar::Standard),
            "proleptic_gregorian" => Some(Calendar::ProlepticGregorian),
            "julian" => Some(Calendar::Julian),
            "noleap" | "365_day" => Some(Calendar::NoLeap),
            "all_leap" | "366_day" => Some(Calendar::AllLeap),
            "360_day" => Some(Calendar::Day360),
            _ => None,
        }
    }

    /// The CF name of the calendar.
    pub fn name(self) -> &'static str {
        match self {
            Calendar::Standard => "standard",
            Calendar::ProlepticGregorian => "proleptic_gregorian",
            Calendar::Julian => "julian",
            Calendar::NoLeap => "noleap",
            Calendar::AllLeap => "all_leap",
            Calendar::Day360 => "360_day",
        }
    }

    /// Whether dates in this calendar are the real (Gregorian) days numpy's
    /// `datetime64` holds, as opposed to cftime-style dates.
    pub fn is_real_world(self) -> bool {
        matches!(self, Calendar::Standard | Calendar::ProlepticGregorian)
    }

    /// Days since 1970-01-01 of this calendar for a year-month-day in it.
    pub fn days_from_epoch(self, year: i64, month: u32, day: u32) -> i64 {
        let (m, d) = (month as i64, day as i64);
        match self {
            Calendar::NoLeap => 365 * (year - 1970) + CUMULATIVE_DAYS[(m - 1) as usize] + d - 1,
            Calendar::AllLeap => {
                let cum = CUMULATIVE_DAYS[(m - 1) as usize] + i64::from(m > 2);
                366 * (year - 1970) + cum + d - 1
            }
            Calendar::Day360 => 360 * (year - 1970) + 30 * (m - 1) + d - 1,
            Calendar::ProlepticGregorian => gregorian_jdn(year, m, d) - gregorian_jdn(1970, 1, 1),
            Calendar::Julian => julian_jdn(year, m, d) - julian_jdn(1970, 1, 1),
            Calendar::Standard => {
                let jdn = if (year, m, d) >= (1582, 10, 15) {
                    gregorian_jdn(year, m, d)
                } else {
                    julian_jdn(year, m, d)
                };
                jdn - gregorian_jdn(1970, 1, 1)
            }
        }
    }

    /// The year-month-day of a day count since 1970-01-01 in this calendar.
    pub fn ymd_from_days(self, days: i64) -> (i64, u32, u32) {
        match self {
            Calendar::NoLeap | Calendar::AllLeap => {
                let len = if self == Calendar::NoLeap { 365 } else { 366 };
                let year = 1970 + days.div_euclid(len);
                let doy = days.rem_euclid(len);
                let leap = i64::from(len == 366);
                let mut month = 1;
                while month < 12 {
                    let end = CUMULATIVE_DAYS[month] + if month >= 2 { leap } else { 0 };
                    if doy < end {
                        break;
                    }
                    month += 1;
                }
                let start = CUMULATIVE_DAYS[month - 1] + if month > 2 { leap } else { 0 };
                (year, month as u32, (doy - start + 1) as u32)
            }
            Calendar::Day360 => {
                let year = 1970 + days.div_euclid(360);
                let doy = days.rem_euclid(360);
                (year, (doy / 30 + 1) as u32, (doy % 30 + 1) as u32)
            }
            Calendar::ProlepticGregorian => jdn_to_gregorian(days + gregorian_jdn(1970, 1, 1)),
            Calendar::Julian => jdn_to_julian(days + julian_jdn(1970, 1, 1)),
            Calendar::Standard => {
                let jdn = days + gregorian_jdn(1970, 1, 1);
                if jdn >= GREGORIAN_START_JDN {
                    jdn_to_gregorian(jdn)
                } else {
                    jdn_to_julian(jdn)
                }
            }
        }
    }

    /// Number of days in a month of this calendar.
    pub fn days_in_month(self, year: i64, month: u32) -> u32 {
        let next = if month == 12 {
            (year + 1, 1)
        } else {
            (year, month + 1)
        };
        (self.days_from_epoch(next.0, next.1, 1) - self.days_from_epoch(year, month, 1)) as u32
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

fn gregorian_jdn(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let y = y + 4800 - a;
    let m = m + 12 * a - 3;
    d + (153 * m + 2) / 5 + 365 * y + y.div_euclid(4) - y.div_euclid(100) + y.div_euclid(400)
        - 32045
}

fn julian_jdn(y: i64, m: i64, d: i64) -> i64 {
    let a = (14 - m) / 12;
    let y = y + 4800 - a;
    let m = m + 12 * a - 3;
    d + (153 * m + 2) / 5 + 365 * y + y.div_euclid(4) - 32083
}

fn jdn_to_gregorian(jdn: i64) -> (i64, u32, u32) {
    let a = jdn + 32044;
    let b = (4 * a + 3).div_euclid(146_097);
    let c = a - 146_097 * b / 4;
    from_shifted(b * 100, c)
}

fn jdn_to_julian(jdn: i64) -> (i64, u32, u32) {
    from_shifted(0, jdn + 32082)
}

fn from_shifted(century_years: i64, c: i64) -> (i64, u32, u32) {
    let d = (4 * c + 3).div_euclid(1461);
    let e = c - 1461 * d / 4;
    let m = (5 * e + 2) / 153;
    let day = e - (153 * m + 2) / 5 + 1;
    let month = m + 3 - 12 * (m / 10);
    let year = century_years + d - 4800 + m / 10;
    (year, month as u32, day as u32)
}

/// A date and time in a CF calendar, to the second.
///
/// ```
/// use geoxr::{Calendar, CfDateTime};
/// let t = CfDateTime::from_ymd_hms(Calendar::Julian, 2018, 2, 1, 0, 0, 0);
/// assert_eq!(t.to_string(), "2018-02-01 00:00:00");
/// assert_eq!(t.seconds(), 17_563 * 86_400);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CfDateTime {
    seconds: i64,
    calendar: Calendar,
}

impl CfDateTime {
    /// A time from seconds since 1970-01-01 00:00:00 of `calendar`.
    pub fn from_seconds(calendar: Calendar, seconds: i64) -> Self {
        CfDateTime { seconds, calendar }
    }

    /// A time from its calendar fields.
    pub fn from_ymd_hms(
        calendar: Calendar,
        year: i64,
        month: u32,
        day: u32,
        hour: u32,
        minute: u32,
        second: u32,
    ) -> Self {
        let days = calendar.days_from_epoch(year, month, day);
        let secs = i64::from(hour * 3600 + minute * 60 + second);
        CfDateTime {
            seconds: days * SECONDS_PER_DAY + secs,
            calendar,
        }
    }

    /// Seconds since 1970-01-01 00:00:00 of the time's calendar.
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// The calendar the time is counted in.
    pub fn calendar(self) -> Calendar {
        self.calendar
    }

    /// Year, month and day.
    pub fn ymd(self) -> (i64, u32, u32) {
        self.calendar
            .ymd_from_days(self.seconds.div_euclid(SECONDS_PER_DAY))
    }

    /// Hour, minute and second of the day.
    pub fn hms(self) -> (u32, u32, u32) {
        let s = self.seconds.rem_euclid(SECONDS_PER_DAY) as u32;
        (s / 3600, s / 60 % 60, s % 60)
    }

    /// The date alone, `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        let (y, m, d) = self.ymd();
        format!("{y:04}-{m:02}-{d:02}")
    }
}

impl fmt::Display for CfDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (h, mi, s) = self.hms();
        write!(f, "{} {h:02}:{mi:02}:{s:02}", self.date_string())
    }
}

/// The unit and epoch of a CF time variable, parsed from `"<unit> since <date>"`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeUnits {
    /// Seconds per unit step (86400 for `days`).
    pub unit_seconds: f64,
    /// The reference time, in the variable's calendar.
    pub epoch: CfDateTime,
}

impl TimeUnits {
    /// Parses units such as `days since 1970-01-01 00:00:00Z`.
    ///
    /// ```
    /// use geoxr::{Calendar, TimeUnits};
    /// let u = TimeUnits::parse("hours since 2000-1-1T06:00", Calendar::Standard).unwrap();
    /// assert_eq!(u.unit_seconds, 3600.0);
    /// assert_eq!(u.epoch.to_string(), "2000-01-01 06:00:00");
    /// ```
    pub fn parse(units: &str, calendar: Calendar) -> Option<TimeUnits> {
        let (unit, reference) = units.trim().split_once(" since ")?;
        let unit_seconds = match unit.trim().to_ascii_lowercase().as_str() {
            "days" | "day" | "d" => 86_400.0,
            "hours" | "hour" | "hr" | "hrs" | "h" => 3_600.0,
            "minutes" | "minute" | "min" | "mins" => 60.0,
            "seconds" | "second" | "sec" | "secs" | "s" => 1.0,
            "milliseconds" | "millisecond" | "ms" => 1e-3,
            "microseconds" | "microsecond" | "us" => 1e-6,
            _ => return None,
        };
        let epoch = parse_reference(reference.trim(), calendar)?;
        Some(TimeUnits {
            unit_seconds,
            epoch,
        })
    }

    /// The time `value` units after the epoch, rounded to the second.
    pub fn decode(&self, value: f64) -> Option<CfDateTime> {
        if !value.is_finite() {
            return None;
        }
        let offset = (value * self.unit_seconds).round();
        if offset.abs() > 1e17 {
            return None;
        }
        Some(CfDateTime::from_seconds(
            self.epoch.calendar,
            self.epoch.seconds + offset as i64,
        ))
    }
}

fn parse_reference(text: &str, calendar: Calendar) -> Option<CfDateTime> {
    let text = text.trim_end_matches('Z').trim_end_matches("UTC").trim();
    let (date, time) = match text.split_once(['T', ' ']) {
        Some((d, t)) => (d, t.trim()),
        None => (text, ""),
    };
    let mut fields = date.splitn(3, '-');
    let year: i64 = fields.next()?.trim().parse().ok()?;
    let month: u32 = fields.next().unwrap_or("1").trim().parse().ok()?;
    let day: u32 = fields.next().unwrap_or("1").trim().parse().ok()?;
    if !(1..=12).contains(&month) || day < 1 || day > calendar.days_in_month(year, month) {
        return None;
    }
    // Drop a trailing zone offset such as "+00:00" (only UTC is meaningful here).
    let time = time.split(['+', 'Z']).next().unwrap_or("").trim();
    let mut hms = time.split(':').filter(|s| !s.is_empty());
    let hour: u32 = hms.next().map_or(Some(0), |s| s.parse().ok())?;
    let minute: u32 = hms.next().map_or(Some(0), |s| s.parse().ok())?;
    let second: f64 = hms.next().map_or(Some(0.0), |s| s.parse().ok())?;
    if hour > 23 || minute > 59 || !(0.0..61.0).contains(&second) {
        return None;
    }
    Some(CfDateTime::from_ymd_hms(
        calendar,
        year,
        month,
        day,
        hour,
        minute,
        second as u32,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_are_day_zero_in_every_calendar() {
        for cal in [
            Calendar::Standard,
            Calendar::ProlepticGregorian,
            Calendar::Julian,
            Calendar::NoLeap,
            Calendar::AllLeap,
            Calendar::Day360,
        ] {
            assert_eq!(cal.days_from_epoch(1970, 1, 1), 0, "{cal}");
            assert_eq!(cal.ymd_from_days(0), (1970, 1, 1), "{cal}");
        }
    }

    #[test]
    fn round_trips_days_over_centuries() {
        for cal in [
            Calendar::Standard,
            Calendar::ProlepticGregorian,
            Calendar::Julian,
            Calendar::NoLeap,
            Calendar::AllLeap,
            Calendar::Day360,
        ] {
            for days in (-250_000..250_000).step_by(97) {
                let (y, m, d) = cal.ymd_from_days(days);
                assert_eq!(cal.days_from_epoch(y, m, d), days, "{cal} {y}-{m}-{d}");
            }
        }
    }

    #[test]
    fn known_dates() {
        // 2018-02-01 is day 17563 after 1970-01-01 in both Gregorian and Julian
        // counting (no century year without a leap day lies between them).
        assert_eq!(Calendar::Standard.days_from_epoch(2018, 2, 1), 17_563);
        assert_eq!(Calendar::Julian.days_from_epoch(2018, 2, 1), 17_563);
        assert_eq!(Calendar::NoLeap.days_from_epoch(1971, 3, 1), 365 + 59);
        assert_eq!(Calendar::AllLeap.ymd_from_days(59), (1970, 2, 29));
        assert_eq!(Calendar::Day360.ymd_from_days(59), (1970, 2, 30));
        // The Gregorian reform: the day after 1582-10-04 (Julian) is 1582-10-15.
        let d = Calendar::Standard.days_from_epoch(1582, 10, 4);
        assert_eq!(Calendar::Standard.ymd_from_days(d + 1), (1582, 10, 15));
        assert_eq!(Calendar::Julian.days_in_month(1900, 2), 29);
        assert_eq!(Calendar::ProlepticGregorian.days_in_month(1900, 2), 28);
    }

    #[test]
    fn parses_cf_units() {
        let u = TimeUnits::parse("days since 1970-01-01 00:00:00Z", Calendar::Julian).unwrap();
        assert_eq!(u.unit_seconds, 86_400.0);
        assert_eq!(
            u.decode(17_563.0).unwrap().to_string(),
            "2018-02-01 00:00:00"
        );
        let u = TimeUnits::parse("seconds since 1980-1-6", Calendar::Standard).unwrap();
        assert_eq!(u.decode(3600.0).unwrap().to_string(), "1980-01-06 01:00:00");
        assert!(TimeUnits::parse("fortnights since 1970-01-01", Calendar::Standard).is_none());
        assert!(TimeUnits::parse("days since 1970-02-30", Calendar::Standard).is_none());
        assert!(TimeUnits::parse("days since 1970-02-30", Calendar::Day360).is_some());
        assert!(TimeUnits::parse("mm", Calendar::Standard).is_none());
    }
}
