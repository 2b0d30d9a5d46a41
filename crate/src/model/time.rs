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
/// Days from 0000-03-01 to 1970-01-01, both proleptic Gregorian.
const GREGORIAN_SHIFT: i64 = 719_468;
/// Days from Julian 0000-03-01 to Gregorian 1970-01-01.
const JULIAN_SHIFT: i64 = 719_470;
/// Julian 1970-01-01 is Gregorian 1970-01-14: the `julian` calendar counts from it.
const JULIAN_EPOCH: i64 = 13;
/// Years are clamped to this magnitude so that no day or second count overflows.
const MAX_YEAR: i64 = 100_000_000_000;

/// The stored value of a missing time ("Not a Time"), as numpy's `NaT`.
///
/// ```
/// use geoxr::{Calendar, CfDateTime, NAT};
/// assert_eq!(CfDateTime::from_seconds(Calendar::Julian, NAT).to_string(), "NaT");
/// ```
pub const NAT: i64 = i64::MIN;

impl Calendar {
    /// Every calendar.
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert!(Calendar::ALL.iter().all(|c| Calendar::parse(c.name()) == Some(*c)));
    /// ```
    pub const ALL: [Calendar; 6] = [
        Calendar::Standard,
        Calendar::ProlepticGregorian,
        Calendar::Julian,
        Calendar::NoLeap,
        Calendar::AllLeap,
        Calendar::Day360,
    ];

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

    /// Whether the calendar has a year 0. As in cftime (and CF 1.9), `standard` and
    /// `julian` count years historically (year 1 follows year −1); the others count
    /// astronomically (…, −1, 0, 1, …).
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert!(!Calendar::Julian.has_year_zero());
    /// let day_before_1 = |c: Calendar| c.ymd_from_days(c.days_from_epoch(1, 1, 1) - 1);
    /// assert_eq!(day_before_1(Calendar::Julian), (-1, 12, 31));
    /// assert_eq!(day_before_1(Calendar::NoLeap), (0, 12, 31));
    /// ```
    pub fn has_year_zero(self) -> bool {
        !matches!(self, Calendar::Standard | Calendar::Julian)
    }

    /// The astronomical year (with a year 0) of a year of this calendar.
    fn astronomical(self, year: i64) -> i64 {
        let year = year.clamp(-MAX_YEAR, MAX_YEAR);
        if !self.has_year_zero() && year < 0 {
            year + 1
        } else {
            year
        }
    }

    /// The year of this calendar for an astronomical year.
    fn own_year(self, astronomical: i64) -> i64 {
        if !self.has_year_zero() && astronomical <= 0 {
            astronomical - 1
        } else {
            astronomical
        }
    }

    /// Whether a year-month-day exists in this calendar (no year 0 in `standard` and
    /// `julian`, no 1582-10-05 … 1582-10-14 in `standard`, February 30 only in
    /// `360_day`).
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert!(Calendar::Day360.is_valid_date(2001, 2, 30));
    /// assert!(!Calendar::Standard.is_valid_date(1582, 10, 10));
    /// assert!(!Calendar::Julian.is_valid_date(0, 6, 1));
    /// ```
    pub fn is_valid_date(self, year: i64, month: u32, day: u32) -> bool {
        if year == 0 && !self.has_year_zero() || !(-MAX_YEAR..=MAX_YEAR).contains(&year) {
            return false;
        }
        if !(1..=12).contains(&month) || day < 1 || day > self.days_in_month(year, month) {
            return false;
        }
        !(self == Calendar::Standard && year == 1582 && month == 10 && (5..15).contains(&day))
    }

    /// Days since 1970-01-01 of this calendar for a year-month-day in it. A month
    /// outside 1..=12 carries into the year and a day past the month's end runs on
    /// into the next months; years are clamped to ±10¹¹, so nothing overflows.
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert_eq!(Calendar::NoLeap.days_from_epoch(1971, 3, 1), 365 + 59);
    /// // The day after Julian 1582-10-04 is Gregorian 1582-10-15.
    /// let d = Calendar::Standard.days_from_epoch(1582, 10, 4);
    /// assert_eq!(Calendar::Standard.ymd_from_days(d + 1), (1582, 10, 15));
    /// ```
    pub fn days_from_epoch(self, year: i64, month: u32, day: u32) -> i64 {
        let months = self.astronomical(year) * 12 + i64::from(month) - 1;
        let (y, m) = (months.div_euclid(12), months.rem_euclid(12) + 1);
        let d = i64::from(day) - 1;
        let in_year = |leap: bool| CUMULATIVE_DAYS[(m - 1) as usize] + i64::from(leap && m > 2);
        match self {
            Calendar::NoLeap => 365 * (y - 1970) + in_year(false) + d,
            Calendar::AllLeap => 366 * (y - 1970) + in_year(true) + d,
            Calendar::Day360 => 360 * (y - 1970) + 30 * (m - 1) + d,
            Calendar::ProlepticGregorian => gregorian_days(y, m, d),
            Calendar::Julian => julian_days(y, m, d) - JULIAN_EPOCH,
            Calendar::Standard if (y, m, d) >= (1582, 10, 14) => gregorian_days(y, m, d),
            Calendar::Standard => julian_days(y, m, d),
        }
    }

    /// The year-month-day of a day count since 1970-01-01 in this calendar.
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert_eq!(Calendar::Day360.ymd_from_days(59), (1970, 2, 30));
    /// // cftime 1.6: date2num(datetime(-1, 12, 31), "days since 1970-01-01", "julian")
    /// assert_eq!(Calendar::Julian.ymd_from_days(-719_178), (-1, 12, 31));
    /// ```
    pub fn ymd_from_days(self, days: i64) -> (i64, u32, u32) {
        let (y, m, d) = match self {
            Calendar::NoLeap | Calendar::AllLeap | Calendar::Day360 => {
                let len = self.days_in_astronomical_year(0);
                let year = 1970 + days.div_euclid(len);
                let mut doy = days.rem_euclid(len);
                let mut month = 1;
                while month < 12 {
                    let length = i64::from(self.month_length(year, month));
                    if doy < length {
                        break;
                    }
                    doy -= length;
                    month += 1;
                }
                (year, month, doy as u32 + 1)
            }
            Calendar::ProlepticGregorian => gregorian_ymd(days),
            Calendar::Julian => julian_ymd(days + JULIAN_EPOCH),
            Calendar::Standard if days >= gregorian_days(1582, 10, 14) => gregorian_ymd(days),
            Calendar::Standard => julian_ymd(days),
        };
        (self.own_year(y), m, d)
    }

    /// Number of days in a month of this calendar (0 for a month outside 1..=12).
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert_eq!(Calendar::Julian.days_in_month(1900, 2), 29);
    /// assert_eq!(Calendar::Standard.days_in_month(1582, 10), 21);
    /// assert_eq!(Calendar::Day360.days_in_month(2001, 2), 30);
    /// ```
    pub fn days_in_month(self, year: i64, month: u32) -> u32 {
        self.month_length(self.astronomical(year), month)
    }

    /// Number of days in a year of this calendar.
    ///
    /// ```
    /// use geoxr::Calendar;
    /// assert_eq!(Calendar::Standard.days_in_year(1582), 355);
    /// assert_eq!(Calendar::Julian.days_in_year(-1), 366);
    /// ```
    pub fn days_in_year(self, year: i64) -> i64 {
        self.days_in_astronomical_year(self.astronomical(year))
    }

    fn days_in_astronomical_year(self, year: i64) -> i64 {
        (1..=12)
            .map(|m| i64::from(self.month_length(year, m)))
            .sum()
    }

    /// Month length for an astronomical year.
    fn month_length(self, year: i64, month: u32) -> u32 {
        let julian_leap = year.rem_euclid(4) == 0;
        let gregorian_leap =
            julian_leap && (year.rem_euclid(100) != 0 || year.rem_euclid(400) == 0);
        let leap = match self {
            Calendar::Day360 => return if (1..=12).contains(&month) { 30 } else { 0 },
            Calendar::NoLeap => false,
            Calendar::AllLeap => true,
            Calendar::Julian => julian_leap,
            Calendar::ProlepticGregorian => gregorian_leap,
            Calendar::Standard if year == 1582 && month == 10 => return 21,
            Calendar::Standard if year < 1582 => julian_leap,
            Calendar::Standard => gregorian_leap,
        };
        match month {
            2 if leap => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            1..=12 => 31,
            _ => 0,
        }
    }

    /// A running month number (astronomical year × 12 + month − 1), so that months
    /// can be counted across years and across the missing year 0.
    pub(crate) fn month_number(self, year: i64, month: u32) -> i64 {
        self.astronomical(year) * 12 + i64::from(month) - 1
    }

    /// The year and month of a running month number.
    pub(crate) fn year_month_of(self, number: i64) -> (i64, u32) {
        let year = number.div_euclid(12).clamp(-MAX_YEAR, MAX_YEAR);
        (self.own_year(year), (number.rem_euclid(12) + 1) as u32)
    }
}

impl fmt::Display for Calendar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Days since Gregorian 1970-01-01 of a proleptic Gregorian date (astronomical year,
/// month 1..=12, zero-based day), after H. Hinnant's `days_from_civil`: years are
/// counted from March so the leap day ends the year, in 400-year eras.
fn gregorian_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - GREGORIAN_SHIFT
}

/// Days since Gregorian 1970-01-01 of a Julian date, in 4-year eras.
fn julian_days(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(4);
    let yoe = y - era * 4;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d;
    era * 1_461 + yoe * 365 + doy - JULIAN_SHIFT
}

/// The month and day of a day of a March-based year (0 = March 1), and 1 if the
/// month falls in the next calendar year.
fn month_day(doy: i64) -> (i64, u32, u32) {
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (i64::from(month <= 2), month as u32, day as u32)
}

fn gregorian_ymd(days: i64) -> (i64, u32, u32) {
    let z = days + GREGORIAN_SHIFT;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let (carry, m, d) = month_day(doe - (365 * yoe + yoe / 4 - yoe / 100));
    (era * 400 + yoe + carry, m, d)
}

fn julian_ymd(days: i64) -> (i64, u32, u32) {
    let z = days + JULIAN_SHIFT;
    let era = z.div_euclid(1_461);
    let doe = z - era * 1_461;
    let yoe = (doe - doe / 1_460) / 365;
    let (carry, m, d) = month_day(doe - 365 * yoe);
    (era * 4 + yoe + carry, m, d)
}

/// A date and time in a CF calendar, to the second, or NaT (a missing time).
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
    /// A time from seconds since 1970-01-01 00:00:00 of `calendar` ([`NAT`] for a
    /// missing time).
    pub fn from_seconds(calendar: Calendar, seconds: i64) -> Self {
        CfDateTime { seconds, calendar }
    }

    /// A time from its calendar fields (years as the calendar counts them, see
    /// [`Calendar::has_year_zero`]). Fields out of range carry over, as in
    /// [`Calendar::days_from_epoch`].
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
        let secs = i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
        let seconds = days.saturating_mul(SECONDS_PER_DAY).saturating_add(secs);
        CfDateTime {
            seconds: seconds.max(NAT + 1),
            calendar,
        }
    }

    /// Seconds since 1970-01-01 00:00:00 of the time's calendar ([`NAT`] if missing).
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// Whether this is a missing time.
    ///
    /// ```
    /// use geoxr::{Calendar, CfDateTime, NAT};
    /// assert!(CfDateTime::from_seconds(Calendar::Standard, NAT).is_nat());
    /// ```
    pub fn is_nat(self) -> bool {
        self.seconds == NAT
    }

    /// The calendar the time is counted in.
    pub fn calendar(self) -> Calendar {
        self.calendar
    }

    /// Year, month and day (meaningless for NaT: check [`CfDateTime::is_nat`]).
    pub fn ymd(self) -> (i64, u32, u32) {
        self.calendar
            .ymd_from_days(self.seconds.div_euclid(SECONDS_PER_DAY))
    }

    /// Hour, minute and second of the day.
    pub fn hms(self) -> (u32, u32, u32) {
        let s = self.seconds.rem_euclid(SECONDS_PER_DAY) as u32;
        (s / 3600, s / 60 % 60, s % 60)
    }

    /// The date alone, `YYYY-MM-DD` (`-0001-12-31` before year 1, as cftime writes
    /// it), or `NaT`.
    pub fn date_string(self) -> String {
        if self.is_nat() {
            return "NaT".into();
        }
        let (y, m, d) = self.ymd();
        let sign = if y < 0 { "-" } else { "" };
        format!("{sign}{:04}-{m:02}-{d:02}", y.unsigned_abs())
    }
}

impl fmt::Display for CfDateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_nat() {
            return f.write_str("NaT");
        }
        let (h, mi, s) = self.hms();
        write!(f, "{} {h:02}:{mi:02}:{s:02}", self.date_string())
    }
}

/// The largest offset from the reference date a time may have, in seconds: what
/// cftime can count in 64-bit microseconds (about 292 000 years).
const MAX_OFFSET_SECONDS: f64 = 9.2e12;

/// The unit and epoch of a CF time variable, parsed from `"<unit> since <date>"`.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeUnits {
    /// Seconds per unit step (86400 for `days`).
    pub unit_seconds: f64,
    /// The reference time (in UTC when the units give a zone), in the variable's
    /// calendar, to the whole second below.
    pub epoch: CfDateTime,
    /// The fraction of a second of the reference time (`0.5` for `00:00:00.5`).
    pub epoch_fraction: f64,
}

impl TimeUnits {
    /// Parses units such as `days since 1970-01-01 00:00:00Z`, as cftime does: units
    /// from nanoseconds to days (`months` in the `360_day` calendar only, as 30 days),
    /// a reference date with a negative year, fractional seconds and a zone offset
    /// (`+05:30`, `-0600`, `UTC`).
    ///
    /// ```
    /// use geoxr::{Calendar, TimeUnits};
    /// let u = TimeUnits::parse("hours since 2000-1-1T06:00", Calendar::Standard).unwrap();
    /// assert_eq!(u.unit_seconds, 3600.0);
    /// assert_eq!(u.epoch.to_string(), "2000-01-01 06:00:00");
    /// let india = TimeUnits::parse("hours since 2000-01-01 00:00:00+05:30", Calendar::Standard);
    /// assert_eq!(india.unwrap().epoch.to_string(), "1999-12-31 18:30:00");
    /// ```
    pub fn parse(units: &str, calendar: Calendar) -> Option<TimeUnits> {
        let (unit, reference) = units.trim().split_once(" since ")?;
        let unit_seconds = match unit.trim().to_ascii_lowercase().as_str() {
            "days" | "day" | "d" => 86_400.0,
            "hours" | "hour" | "hr" | "hrs" | "h" => 3_600.0,
            "minutes" | "minute" | "min" | "mins" => 60.0,
            "seconds" | "second" | "sec" | "secs" | "s" => 1.0,
            "milliseconds" | "millisecond" | "msec" | "msecs" | "ms" => 1e-3,
            "microseconds" | "microsecond" | "usec" | "usecs" | "us" => 1e-6,
            "nanoseconds" | "nanosecond" | "nsec" | "nsecs" | "ns" => 1e-9,
            "months" | "month" if calendar == Calendar::Day360 => 30.0 * 86_400.0,
            _ => return None,
        };
        let (epoch, epoch_fraction) = parse_reference(reference.trim(), calendar)?;
        Some(TimeUnits {
            unit_seconds,
            epoch,
            epoch_fraction,
        })
    }

    /// The time `value` units after the epoch, rounded to the second; `None` for a
    /// value that is not finite or lies more than about 292 000 years from the epoch.
    pub fn decode(&self, value: f64) -> Option<CfDateTime> {
        let offset = (value * self.unit_seconds + self.epoch_fraction).round();
        if !offset.is_finite() || offset.abs() > MAX_OFFSET_SECONDS {
            return None;
        }
        Some(CfDateTime::from_seconds(
            self.epoch.calendar,
            self.epoch.seconds + offset as i64,
        ))
    }

    /// The part of a second that decoding `value` rounds away (in seconds, with its
    /// sign): zero, up to float noise, for times on whole seconds.
    ///
    /// ```
    /// use geoxr::{Calendar, TimeUnits};
    /// let u = TimeUnits::parse("seconds since 2000-01-01", Calendar::Standard).unwrap();
    /// assert_eq!((u.lost_fraction(3.0), u.lost_fraction(0.25)), (0.0, 0.25));
    /// ```
    pub fn lost_fraction(&self, value: f64) -> f64 {
        let offset = value * self.unit_seconds + self.epoch_fraction;
        offset - offset.round()
    }

    /// The number of units from the epoch to a time (NaN for NaT); the inverse of
    /// [`TimeUnits::decode`].
    ///
    /// ```
    /// use geoxr::{Calendar, TimeUnits};
    /// let u = TimeUnits::parse("days since 2000-01-01", Calendar::NoLeap).unwrap();
    /// assert_eq!(u.encode(u.decode(365.5).unwrap()), 365.5);
    /// ```
    pub fn encode(&self, time: CfDateTime) -> f64 {
        if time.is_nat() {
            return f64::NAN;
        }
        let seconds = (time.seconds() - self.epoch.seconds) as f64 - self.epoch_fraction;
        seconds / self.unit_seconds
    }
}

/// Splits `[-]Y-M-D[( |T)h:m:s[.f]][zone]` into the reference time (zone applied) and
/// its fraction of a second.
fn parse_reference(text: &str, calendar: Calendar) -> Option<(CfDateTime, f64)> {
    let text = text.trim();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let date_end = text.find(['T', ' ']).unwrap_or(text.len());
    let (date, rest) = text.split_at(date_end);
    let mut fields = date.splitn(3, '-');
    let year: i64 = fields.next()?.trim().parse().ok()?;
    let year = if negative { -year } else { year };
    let month: u32 = fields.next().unwrap_or("1").trim().parse().ok()?;
    let day: u32 = fields.next().unwrap_or("1").trim().parse().ok()?;
    if !calendar.is_valid_date(year, month, day) {
        return None;
    }
    let rest = rest.trim_start_matches('T').trim();
    let rest = rest
        .strip_suffix("UTC")
        .or_else(|| rest.strip_suffix('Z'))
        .unwrap_or(rest)
        .trim();
    let (time, zone_seconds) = match rest.find(['+', '-']) {
        Some(at) => (rest[..at].trim(), parse_zone(&rest[at..])?),
        None => (rest, 0),
    };
    let mut hms = time.split(':').filter(|s| !s.is_empty());
    let hour: u32 = hms.next().map_or(Some(0), |s| s.parse().ok())?;
    let minute: u32 = hms.next().map_or(Some(0), |s| s.parse().ok())?;
    let second: f64 = hms.next().map_or(Some(0.0), |s| s.parse().ok())?;
    if hms.next().is_some() || hour > 23 || minute > 59 || !(0.0..61.0).contains(&second) {
        return None;
    }
    let whole = second.floor();
    let local = CfDateTime::from_ymd_hms(calendar, year, month, day, hour, minute, whole as u32);
    let utc = CfDateTime::from_seconds(calendar, local.seconds() - zone_seconds);
    Some((utc, second - whole))
}

/// A zone offset such as `+05:30`, `-06`, `+0530`, in seconds east of UTC.
fn parse_zone(text: &str) -> Option<i64> {
    let (sign, body) = match text.strip_prefix('-') {
        Some(rest) => (-1, rest),
        None => (1, text.strip_prefix('+')?),
    };
    let body = body.trim();
    let (h, m) = match body.split_once(':') {
        Some(parts) => parts,
        None if body.len() > 2 && body.is_char_boundary(2) => body.split_at(2),
        None => (body, "0"),
    };
    let (h, m): (i64, i64) = (h.trim().parse().ok()?, m.trim().parse().ok()?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) {
        return None;
    }
    Some(sign * (h * 3600 + m * 60))
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

    /// Dates and their day numbers (days since 1970-01-01 of the calendar), made once
    /// with cftime 1.6.6 in a scratch venv: for each calendar, fixed edge dates plus
    /// random ones (seed 11) in years -10000..=10000, each `n =
    /// cftime.date2num(cftime.datetime(y, m, d, calendar=cal, has_year_zero=cal not in
    /// ("standard", "julian")), "days since 1970-01-01", calendar=cal, ...)`, checked
    /// to round-trip through `num2date`.
    const CFTIME_DATES: &[(Calendar, i64, u32, u32, i64)] = &[
        (Calendar::Standard, -10000, 1, 1, -4371664),
        (Calendar::Standard, 10000, 12, 30, 2933261),
        (Calendar::Standard, -1, 12, 30, -719166),
        (Calendar::Standard, 1, 1, 1, -719164),
        (Calendar::Standard, -4801, 3, 1, -2472670),
        (Calendar::Standard, -4713, 1, 1, -2440588),
        (Calendar::Standard, 1582, 10, 4, -141428),
        (Calendar::Standard, 1582, 10, 15, -141427),
        (Calendar::Standard, 1900, 3, 1, -25508),
        (Calendar::Standard, 2100, 3, 1, 47541),
        (Calendar::Standard, 2018, 2, 1, 17563),
        (Calendar::Standard, -401, 2, 28, -865572),
        (Calendar::Standard, 4823, 9, 28, 1042307),
        (Calendar::Standard, 5258, 8, 17, 1201146),
        (Calendar::Standard, 9247, 4, 6, 2657965),
        (Calendar::Standard, 6774, 8, 21, 1754857),
        (Calendar::Standard, -3900, 2, 15, -2143594),
        (Calendar::Standard, -59, 3, 3, -740653),
        (Calendar::Standard, 7651, 12, 21, 2075297),
        (Calendar::Standard, -8628, 10, 13, -3870256),
        (Calendar::Standard, 4843, 11, 24, 1049669),
        (Calendar::Standard, -4840, 10, 1, -2486701),
        (Calendar::Standard, 7313, 2, 2, 1951523),
        (Calendar::Standard, -8832, 4, 8, -3944955),
        (Calendar::Standard, 9648, 1, 25, 2804356),
        (Calendar::Standard, 5202, 6, 15, 1180629),
        (Calendar::Julian, -10000, 1, 1, -4371677),
        (Calendar::Julian, 10000, 12, 30, 2933321),
        (Calendar::Julian, -1, 12, 30, -719179),
        (Calendar::Julian, 1, 1, 1, -719177),
        (Calendar::Julian, -4801, 3, 1, -2472683),
        (Calendar::Julian, -4713, 1, 1, -2440601),
        (Calendar::Julian, 1582, 10, 4, -141441),
        (Calendar::Julian, 1582, 10, 15, -141430),
        (Calendar::Julian, 1900, 3, 1, -25508),
        (Calendar::Julian, 2100, 3, 1, 47542),
        (Calendar::Julian, 2018, 2, 1, 17563),
        (Calendar::Julian, -401, 2, 28, -865585),
        (Calendar::Julian, 9364, 4, 17, 2700765),
        (Calendar::Julian, -2344, 11, 10, -1575010),
        (Calendar::Julian, 6376, 1, 22, 1609312),
        (Calendar::Julian, -7216, 8, 21, -3354589),
        (Calendar::Julian, -886, 7, 18, -1042591),
        (Calendar::Julian, -7274, 12, 9, -3375664),
        (Calendar::Julian, 331, 4, 17, -598539),
        (Calendar::Julian, -529, 1, 3, -912393),
        (Calendar::Julian, 8453, 2, 13, 2367959),
        (Calendar::Julian, -6468, 5, 13, -3081482),
        (Calendar::Julian, -7811, 1, 28, -3572118),
        (Calendar::Julian, -9983, 4, 7, -4365372),
        (Calendar::Julian, -8286, 8, 13, -3745415),
        (Calendar::Julian, 3022, 7, 3, 384426),
        (Calendar::ProlepticGregorian, -10000, 1, 1, -4371953),
        (Calendar::ProlepticGregorian, 10000, 12, 30, 2933261),
        (Calendar::ProlepticGregorian, -1, 12, 30, -719530),
        (Calendar::ProlepticGregorian, 1, 1, 1, -719162),
        (Calendar::ProlepticGregorian, -4801, 3, 1, -2472998),
        (Calendar::ProlepticGregorian, -4713, 1, 1, -2440915),
        (Calendar::ProlepticGregorian, 1582, 10, 4, -141438),
        (Calendar::ProlepticGregorian, 1582, 10, 15, -141427),
        (Calendar::ProlepticGregorian, 1900, 3, 1, -25508),
        (Calendar::ProlepticGregorian, 2100, 3, 1, 47541),
        (Calendar::ProlepticGregorian, 2018, 2, 1, 17563),
        (Calendar::ProlepticGregorian, -401, 2, 28, -865932),
        (Calendar::ProlepticGregorian, 0, 2, 28, -719470),
        (Calendar::ProlepticGregorian, 8554, 11, 7, 2405067),
        (Calendar::ProlepticGregorian, -1160, 6, 3, -1143055),
        (Calendar::ProlepticGregorian, 197, 6, 1, -647423),
        (Calendar::ProlepticGregorian, 3436, 2, 5, 535480),
        (Calendar::ProlepticGregorian, -1927, 12, 4, -1423012),
        (Calendar::ProlepticGregorian, -9642, 1, 15, -4241182),
        (Calendar::ProlepticGregorian, 5952, 3, 22, 1454476),
        (Calendar::ProlepticGregorian, 8326, 4, 15, 2321585),
        (Calendar::ProlepticGregorian, 6674, 4, 24, 1718214),
        (Calendar::ProlepticGregorian, -5709, 7, 21, -2804496),
        (Calendar::ProlepticGregorian, 2574, 2, 13, 220650),
        (Calendar::ProlepticGregorian, 3787, 4, 1, 663736),
        (Calendar::ProlepticGregorian, -1160, 10, 10, -1142926),
        (Calendar::ProlepticGregorian, -9357, 4, 6, -4137007),
        (Calendar::NoLeap, -10000, 1, 1, -4369050),
        (Calendar::NoLeap, 10000, 12, 30, 2931313),
        (Calendar::NoLeap, -1, 12, 30, -719052),
        (Calendar::NoLeap, 1, 1, 1, -718685),
        (Calendar::NoLeap, -4801, 3, 1, -2471356),
        (Calendar::NoLeap, -4713, 1, 1, -2439295),
        (Calendar::NoLeap, 1582, 10, 4, -141344),
        (Calendar::NoLeap, 1582, 10, 15, -141333),
        (Calendar::NoLeap, 1900, 3, 1, -25491),
        (Calendar::NoLeap, 2100, 3, 1, 47509),
        (Calendar::NoLeap, 2018, 2, 1, 17551),
        (Calendar::NoLeap, -401, 2, 28, -865357),
        (Calendar::NoLeap, 0, 2, 28, -718992),
        (Calendar::NoLeap, 2919, 10, 21, 346678),
        (Calendar::NoLeap, 8905, 2, 2, 2531307),
        (Calendar::NoLeap, -5205, 4, 15, -2618771),
        (Calendar::NoLeap, -1537, 1, 25, -1280031),
        (Calendar::NoLeap, 9999, 6, 27, 2930762),
        (Calendar::NoLeap, -291, 7, 3, -825082),
        (Calendar::NoLeap, -7566, 2, 7, -3480603),
        (Calendar::NoLeap, 9095, 11, 8, 2600936),
        (Calendar::NoLeap, -9492, 10, 12, -4183346),
        (Calendar::NoLeap, 2179, 10, 15, 76572),
        (Calendar::NoLeap, -5832, 10, 16, -2847442),
        (Calendar::NoLeap, 8827, 3, 28, 2502891),
        (Calendar::NoLeap, 2651, 3, 21, 248644),
        (Calendar::NoLeap, -4950, 5, 8, -2525673),
        (Calendar::AllLeap, -10000, 1, 1, -4381020),
        (Calendar::AllLeap, 10000, 12, 30, 2939344),
        (Calendar::AllLeap, -1, 12, 30, -721022),
        (Calendar::AllLeap, 1, 1, 1, -720654),
        (Calendar::AllLeap, -4801, 3, 1, -2478126),
        (Calendar::AllLeap, -4713, 1, 1, -2445978),
        (Calendar::AllLeap, 1582, 10, 4, -141731),
        (Calendar::AllLeap, 1582, 10, 15, -141720),
        (Calendar::AllLeap, 1900, 3, 1, -25560),
        (Calendar::AllLeap, 2100, 3, 1, 47640),
        (Calendar::AllLeap, 2018, 2, 1, 17599),
        (Calendar::AllLeap, -401, 2, 28, -867728),
        (Calendar::AllLeap, 0, 2, 28, -720962),
        (Calendar::AllLeap, -1825, 12, 7, -1388629),
        (Calendar::AllLeap, -4808, 12, 21, -2480393),
        (Calendar::AllLeap, 8151, 4, 22, 2262358),
        (Calendar::AllLeap, 2720, 8, 20, 274732),
        (Calendar::AllLeap, -7428, 7, 2, -3439485),
        (Calendar::AllLeap, -6598, 2, 2, -3135856),
        (Calendar::AllLeap, 6788, 5, 8, 1763516),
        (Calendar::AllLeap, 2832, 5, 14, 315626),
        (Calendar::AllLeap, 9545, 8, 10, 2772672),
        (Calendar::AllLeap, 7041, 3, 24, 1856069),
        (Calendar::AllLeap, -7747, 3, 8, -3556355),
        (Calendar::AllLeap, 5705, 9, 21, 1367274),
        (Calendar::AllLeap, -7571, 5, 7, -3491879),
        (Calendar::AllLeap, -3317, 12, 1, -1934707),
        (Calendar::Day360, -10000, 1, 1, -4309200),
        (Calendar::Day360, 10000, 12, 30, 2891159),
        (Calendar::Day360, -1, 12, 30, -709201),
        (Calendar::Day360, 1, 1, 1, -708840),
        (Calendar::Day360, -4801, 3, 1, -2437500),
        (Calendar::Day360, -4713, 1, 1, -2405880),
        (Calendar::Day360, 1582, 10, 4, -139407),
        (Calendar::Day360, 1582, 10, 15, -139396),
        (Calendar::Day360, 1900, 3, 1, -25140),
        (Calendar::Day360, 2100, 3, 1, 46860),
        (Calendar::Day360, 2018, 2, 1, 17310),
        (Calendar::Day360, -401, 2, 28, -853503),
        (Calendar::Day360, 0, 2, 28, -709143),
        (Calendar::Day360, -7734, 5, 14, -3493307),
        (Calendar::Day360, 4604, 4, 2, 948331),
        (Calendar::Day360, -8474, 3, 10, -3759771),
        (Calendar::Day360, 2084, 9, 19, 41298),
        (Calendar::Day360, -5689, 2, 12, -2757199),
        (Calendar::Day360, -5465, 8, 11, -2676380),
        (Calendar::Day360, 7102, 10, 5, 1847794),
        (Calendar::Day360, 9329, 1, 1, 2649240),
        (Calendar::Day360, 5558, 6, 23, 1291852),
        (Calendar::Day360, 217, 1, 1, -631080),
        (Calendar::Day360, 9607, 11, 3, 2749622),
        (Calendar::Day360, 5801, 2, 24, 1379213),
        (Calendar::Day360, 192, 6, 5, -639926),
        (Calendar::Day360, -7627, 2, 15, -3454876),
    ];

    /// (calendar, year, days in the year, days in February), from cftime 1.6.6 as the
    /// difference of `cftime.datetime`s on Jan 1 of the year and of the next one, and on
    /// Feb 1 and Mar 1.
    const CFTIME_LENGTHS: &[(Calendar, i64, i64, i64)] = &[
        (Calendar::Standard, -10000, 365, 28),
        (Calendar::Standard, -101, 366, 29),
        (Calendar::Standard, -4, 365, 28),
        (Calendar::Standard, -1, 366, 29),
        (Calendar::Standard, 4, 366, 29),
        (Calendar::Standard, 100, 366, 29),
        (Calendar::Standard, 1582, 355, 28),
        (Calendar::Standard, 1900, 365, 28),
        (Calendar::Standard, 2000, 366, 29),
        (Calendar::Standard, 2100, 365, 28),
        (Calendar::Standard, 9999, 365, 28),
        (Calendar::Julian, -10000, 365, 28),
        (Calendar::Julian, -101, 366, 29),
        (Calendar::Julian, -4, 365, 28),
        (Calendar::Julian, -1, 366, 29),
        (Calendar::Julian, 4, 366, 29),
        (Calendar::Julian, 100, 366, 29),
        (Calendar::Julian, 1582, 365, 28),
        (Calendar::Julian, 1900, 366, 29),
        (Calendar::Julian, 2000, 366, 29),
        (Calendar::Julian, 2100, 366, 29),
        (Calendar::Julian, 9999, 365, 28),
        (Calendar::ProlepticGregorian, -10000, 366, 29),
        (Calendar::ProlepticGregorian, -101, 365, 28),
        (Calendar::ProlepticGregorian, -4, 366, 29),
        (Calendar::ProlepticGregorian, -1, 365, 28),
        (Calendar::ProlepticGregorian, 4, 366, 29),
        (Calendar::ProlepticGregorian, 100, 365, 28),
        (Calendar::ProlepticGregorian, 1582, 365, 28),
        (Calendar::ProlepticGregorian, 1900, 365, 28),
        (Calendar::ProlepticGregorian, 2000, 366, 29),
        (Calendar::ProlepticGregorian, 2100, 365, 28),
        (Calendar::ProlepticGregorian, 9999, 365, 28),
        (Calendar::NoLeap, -10000, 365, 28),
        (Calendar::NoLeap, -101, 365, 28),
        (Calendar::NoLeap, -4, 365, 28),
        (Calendar::NoLeap, -1, 365, 28),
        (Calendar::NoLeap, 4, 365, 28),
        (Calendar::NoLeap, 100, 365, 28),
        (Calendar::NoLeap, 1582, 365, 28),
        (Calendar::NoLeap, 1900, 365, 28),
        (Calendar::NoLeap, 2000, 365, 28),
        (Calendar::NoLeap, 2100, 365, 28),
        (Calendar::NoLeap, 9999, 365, 28),
        (Calendar::AllLeap, -10000, 366, 29),
        (Calendar::AllLeap, -101, 366, 29),
        (Calendar::AllLeap, -4, 366, 29),
        (Calendar::AllLeap, -1, 366, 29),
        (Calendar::AllLeap, 4, 366, 29),
        (Calendar::AllLeap, 100, 366, 29),
        (Calendar::AllLeap, 1582, 366, 29),
        (Calendar::AllLeap, 1900, 366, 29),
        (Calendar::AllLeap, 2000, 366, 29),
        (Calendar::AllLeap, 2100, 366, 29),
        (Calendar::AllLeap, 9999, 366, 29),
        (Calendar::Day360, -10000, 360, 30),
        (Calendar::Day360, -101, 360, 30),
        (Calendar::Day360, -4, 360, 30),
        (Calendar::Day360, -1, 360, 30),
        (Calendar::Day360, 4, 360, 30),
        (Calendar::Day360, 100, 360, 30),
        (Calendar::Day360, 1582, 360, 30),
        (Calendar::Day360, 1900, 360, 30),
        (Calendar::Day360, 2000, 360, 30),
        (Calendar::Day360, 2100, 360, 30),
        (Calendar::Day360, 9999, 360, 30),
    ];

    #[test]
    fn day_numbers_match_cftime() {
        for &(cal, y, m, d, n) in CFTIME_DATES {
            assert_eq!(cal.days_from_epoch(y, m, d), n, "{cal} {y}-{m}-{d}");
            assert_eq!(cal.ymd_from_days(n), (y, m, d), "{cal} day {n}");
            assert!(cal.is_valid_date(y, m, d), "{cal} {y}-{m}-{d}");
        }
    }

    #[test]
    fn year_and_month_lengths_match_cftime() {
        for &(cal, y, year, feb) in CFTIME_LENGTHS {
            assert_eq!(cal.days_in_year(y), year, "{cal} {y}");
            assert_eq!(i64::from(cal.days_in_month(y, 2)), feb, "{cal} {y}");
            let next = if y == -1 && !cal.has_year_zero() {
                1
            } else {
                y + 1
            };
            let span = cal.days_from_epoch(next, 1, 1) - cal.days_from_epoch(y, 1, 1);
            assert_eq!(span, year, "{cal} {y}");
        }
    }

    /// Over random days of years -10000..=10000 in every calendar: the date of a day
    /// is valid and maps back to the day, the next day is the next date, and the months
    /// of its year add up to the year's length.
    #[test]
    fn random_days_round_trip_in_every_calendar() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(11);
        let span = 10_001 * 366;
        for cal in Calendar::ALL {
            for _ in 0..20_000 {
                let day = rng.gen_range(-span - 719_528..span - 719_528);
                let (y, m, d) = cal.ymd_from_days(day);
                assert!(cal.is_valid_date(y, m, d), "{cal} day {day}: {y}-{m}-{d}");
                assert_eq!(cal.days_from_epoch(y, m, d), day, "{cal} {y}-{m}-{d}");
                let next = cal.ymd_from_days(day + 1);
                let expected = if d < cal.days_in_month(y, m) {
                    (y, m, d + 1)
                } else if m < 12 {
                    (y, m + 1, 1)
                } else {
                    (
                        if y == -1 && !cal.has_year_zero() {
                            1
                        } else {
                            y + 1
                        },
                        1,
                        1,
                    )
                };
                let expected = match (cal, expected) {
                    (Calendar::Standard, (1582, 10, 5)) => (1582, 10, 15),
                    (_, e) => e,
                };
                assert_eq!(next, expected, "{cal} after {y}-{m}-{d}");
                let months: i64 = (1..=12).map(|m| i64::from(cal.days_in_month(y, m))).sum();
                assert_eq!(months, cal.days_in_year(y), "{cal} {y}");
            }
        }
    }

    #[test]
    fn invalid_fields_never_panic() {
        for cal in Calendar::ALL {
            for (y, m, d) in [
                (i64::MAX, 13, 40),
                (i64::MIN, 0, 0),
                (0, u32::MAX, u32::MAX),
            ] {
                let days = cal.days_from_epoch(y, m, d);
                let _ = cal.ymd_from_days(days);
                let _ = CfDateTime::from_ymd_hms(cal, y, m, d, u32::MAX, u32::MAX, u32::MAX);
                assert!(!cal.is_valid_date(y, m, d));
            }
            let _ = cal.ymd_from_days(NAT / 86_400);
            assert_eq!(CfDateTime::from_seconds(cal, NAT).to_string(), "NaT");
        }
        assert!(!Calendar::Julian.is_valid_date(0, 1, 1));
        assert!(Calendar::ProlepticGregorian.is_valid_date(0, 2, 29));
    }

    #[test]
    fn years_before_one_are_written_as_cftime_writes_them() {
        // cftime 1.6.6: num2date(-1, "days since 0001-01-01", cal) is -0001-12-31 in
        // standard and julian, 0000-12-31 in the calendars with a year zero.
        for (cal, text) in [
            (Calendar::Standard, "-0001-12-31"),
            (Calendar::Julian, "-0001-12-31"),
            (Calendar::ProlepticGregorian, "0000-12-31"),
            (Calendar::Day360, "0000-12-30"),
        ] {
            let u = TimeUnits::parse("days since 0001-01-01", cal).unwrap();
            assert_eq!(u.decode(-1.0).unwrap().date_string(), text, "{cal}");
        }
        let u = TimeUnits::parse("days since -0001-12-31", Calendar::Julian).unwrap();
        assert_eq!(u.decode(1.0).unwrap().date_string(), "0001-01-01");
    }

    #[test]
    fn units_with_zones_fractions_and_small_units() {
        let std = Calendar::Standard;
        let at = |units: &str, v: f64| {
            TimeUnits::parse(units, std)
                .unwrap()
                .decode(v)
                .unwrap()
                .to_string()
        };
        // Values as xarray 2026.9 decodes them (see io/fixtures/cf_cases.py).
        assert_eq!(
            at("hours since 2000-01-01 00:00:00+05:30", 1.0),
            "1999-12-31 19:30:00"
        );
        assert_eq!(
            at("days since 2000-01-01 00:00:00-06:00", 2.0),
            "2000-01-03 06:00:00"
        );
        assert_eq!(
            at("days since 2000-01-01T00:00:00-0600", 0.0),
            "2000-01-01 06:00:00"
        );
        assert_eq!(
            at("nanoseconds since 2000-01-01", 3e9),
            "2000-01-01 00:00:03"
        );
        assert_eq!(
            at("seconds since 2000-01-01 00:00:00.5", 59.5),
            "2000-01-01 00:01:00"
        );
        assert_eq!(
            at("days since 2000-01-01 00:00:00 UTC", 1.0),
            "2000-01-02 00:00:00"
        );
        let months = TimeUnits::parse("months since 2000-01-01", Calendar::Day360).unwrap();
        assert_eq!(
            months.decode(13.0).unwrap().to_string(),
            "2001-02-01 00:00:00"
        );
        assert!(TimeUnits::parse("months since 2000-01-01", std).is_none());
        assert!(TimeUnits::parse("days since 2000-01-01 00:00:00+99:00", std).is_none());
        let u = TimeUnits::parse("days since 1970-01-01", std).unwrap();
        assert!(u.decode(f64::NAN).is_none());
        assert!(u.decode(-2_147_483_647.0).is_none());
        assert!(u.decode(1e300).is_none());
    }
}
