//! The words of `dmvpn-router simulate`'s options: virtual times (`90s`, `10m`, `1h30m`,
//! `250ms`, a bare number of seconds), the what-if events (`R2@30s`, `R1,R2@1m-2m`,
//! `R2=FILE@45s`) and the flows (`R2,R3`, `30s-90s`), each refused with what was expected.

use dmvpn_proto::Duration;

/// Why an option's value was refused.
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("`{value}`: {expected}")]
pub struct OptionError {
    /// The value given.
    pub value: String,
    /// What was expected.
    pub expected: &'static str,
}

fn refuse(value: &str, expected: &'static str) -> OptionError {
    OptionError {
        value: value.to_owned(),
        expected,
    }
}

/// The longest virtual time a run may cover: 30 days.
pub const MAX_TIME: Duration = Duration::from_secs(30 * 86_400);

const TIME: &str = "a virtual time such as 90s, 10m, 1h30m, 250ms or a number of seconds";

/// Parses a virtual time: units `ms`, `s`, `m`, `h`, `d`, one after another (`1m30s`), or a
/// bare number of seconds; at most [`MAX_TIME`].
///
/// # Errors
///
/// [`OptionError`] naming the value.
pub fn parse_time(text: &str) -> Result<Duration, OptionError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(refuse(text, TIME));
    }
    if let Ok(seconds) = text.parse::<u32>() {
        return bounded(text, u64::from(seconds) * 1_000_000);
    }
    let mut micros: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: u64 =
            (rest.get(..digits).and_then(|d| d.parse().ok())).ok_or_else(|| refuse(text, TIME))?;
        rest = rest.get(digits..).unwrap_or_default();
        let unit = rest.bytes().take_while(u8::is_ascii_alphabetic).count();
        let scale: u64 = match rest.get(..unit) {
            Some("ms") => 1_000,
            Some("s") => 1_000_000,
            Some("m") => 60_000_000,
            Some("h") => 3_600_000_000,
            Some("d") => 86_400_000_000,
            _ => return Err(refuse(text, TIME)),
        };
        rest = rest.get(unit..).unwrap_or_default();
        micros = number
            .checked_mul(scale)
            .and_then(|m| micros.checked_add(m))
            .ok_or_else(|| refuse(text, TIME))?;
    }
    bounded(text, micros)
}

fn bounded(text: &str, micros: u64) -> Result<Duration, OptionError> {
    let micros = i64::try_from(micros).map_err(|_| refuse(text, "at most 30 days"))?;
    let duration = Duration::from_micros(micros);
    if duration > MAX_TIME {
        return Err(refuse(text, "at most 30 days"));
    }
    Ok(duration)
}

/// Splits `ROUTER@TIME`.
fn at(text: &str, expected: &'static str) -> Result<(String, Duration), OptionError> {
    let (name, time) = text
        .rsplit_once('@')
        .ok_or_else(|| refuse(text, expected))?;
    if name.is_empty() {
        return Err(refuse(text, expected));
    }
    Ok((name.to_owned(), parse_time(time)?))
}

/// `--fail ROUTER@T` and `--restart ROUTER@T`: the router's name (hostname or file name) and
/// the time.
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_router_at(text: &str) -> Result<(String, Duration), OptionError> {
    at(text, "ROUTER@TIME, e.g. R2@30s")
}

/// `--partition A,B@T-T2`: the two routers and the times the network between them is cut and
/// joined again.
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_partition(text: &str) -> Result<(String, String, Duration, Duration), OptionError> {
    const EXPECTED: &str = "A,B@FROM-UNTIL, e.g. R1,R2@30s-90s";
    let (names, times) = text
        .rsplit_once('@')
        .ok_or_else(|| refuse(text, EXPECTED))?;
    let (a, b) = names
        .split_once(',')
        .ok_or_else(|| refuse(text, EXPECTED))?;
    let (from, until) = times
        .split_once('-')
        .ok_or_else(|| refuse(text, EXPECTED))?;
    let (from, until) = (parse_time(from)?, parse_time(until)?);
    if a.is_empty() || b.is_empty() || a == b {
        return Err(refuse(text, "two different routers"));
    }
    if until <= from {
        return Err(refuse(text, "an end after the start"));
    }
    Ok((a.to_owned(), b.to_owned(), from, until))
}

/// `--change ROUTER=FILE@T`: the router, the new configuration's path and the time.
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_change(text: &str) -> Result<(String, String, Duration), OptionError> {
    const EXPECTED: &str = "ROUTER=FILE@TIME, e.g. R2=R2-new.cfg@60s";
    let (name, rest) = text.split_once('=').ok_or_else(|| refuse(text, EXPECTED))?;
    let (file, time) = at(rest, EXPECTED)?;
    if name.is_empty() {
        return Err(refuse(text, EXPECTED));
    }
    Ok((name.to_owned(), file, time))
}

/// `--nat ROUTER=ADDRESS`: the router and its NAT's outside address.
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_nat(text: &str) -> Result<(String, std::net::Ipv4Addr), OptionError> {
    const EXPECTED: &str = "ROUTER=OUTSIDE-ADDRESS, e.g. R2=203.0.113.2";
    let (name, address) = text.split_once('=').ok_or_else(|| refuse(text, EXPECTED))?;
    let address = address.parse().map_err(|_| refuse(text, EXPECTED))?;
    if name.is_empty() {
        return Err(refuse(text, EXPECTED));
    }
    Ok((name.to_owned(), address))
}

/// `--flow FROM,TO`: a spoke-to-spoke flow's source and destination routers.
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_flow(text: &str) -> Result<(String, String), OptionError> {
    const EXPECTED: &str = "FROM,TO, e.g. R2,R3";
    let (a, b) = text.split_once(',').ok_or_else(|| refuse(text, EXPECTED))?;
    if a.is_empty() || b.is_empty() || a == b {
        return Err(refuse(text, "two different routers, e.g. R2,R3"));
    }
    Ok((a.to_owned(), b.to_owned()))
}

/// `--flows FROM-UNTIL`: when the flows send (`30s-90s`; `0-0` for none).
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_window(text: &str) -> Result<(Duration, Duration), OptionError> {
    const EXPECTED: &str = "FROM-UNTIL, e.g. 30s-90s (0-0: no flows)";
    let (from, until) = text.split_once('-').ok_or_else(|| refuse(text, EXPECTED))?;
    let (from, until) = (parse_time(from)?, parse_time(until)?);
    if until < from {
        return Err(refuse(text, "an end after the start"));
    }
    Ok((from, until))
}

/// `--loss P`: the percentage of packets each NBMA hop loses, 0 to 100.
///
/// # Errors
///
/// [`OptionError`].
pub fn parse_loss(text: &str) -> Result<u32, OptionError> {
    const EXPECTED: &str = "a whole percentage from 0 to 100, e.g. 5 or 5%";
    let number = text.trim().trim_end_matches('%');
    match number.parse::<u32>() {
        Ok(p) if p <= 100 => Ok(p),
        _ => Err(refuse(text, EXPECTED)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        let s = Duration::from_secs;
        assert_eq!(parse_time("90"), Ok(s(90)));
        assert_eq!(parse_time("90s"), Ok(s(90)));
        assert_eq!(parse_time("10m"), Ok(s(600)));
        assert_eq!(parse_time("1h30m"), Ok(s(5400)));
        assert_eq!(parse_time("1m30s"), Ok(s(90)));
        assert_eq!(parse_time("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_time("2d"), Ok(s(172_800)));
        for bad in [
            "",
            "m",
            "10x",
            "1.5s",
            "-3s",
            "31d",
            "99999999999999999999s",
            "s10",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_time("10x").unwrap_err().to_string(),
            "`10x`: a virtual time such as 90s, 10m, 1h30m, 250ms or a number of seconds"
        );
    }

    #[test]
    fn what_ifs() {
        let s = Duration::from_secs;
        assert_eq!(parse_router_at("R2@30s"), Ok(("R2".to_owned(), s(30))));
        assert_eq!(
            parse_router_at("hub.cfg@1m"),
            Ok(("hub.cfg".to_owned(), s(60)))
        );
        assert!(parse_router_at("@30s").is_err() && parse_router_at("R2").is_err());
        assert_eq!(
            parse_partition("R1,R2@30s-90s"),
            Ok(("R1".to_owned(), "R2".to_owned(), s(30), s(90)))
        );
        for bad in ["R1,R2@90s-30s", "R1@30s-90s", "R1,R1@1s-2s", "R1,R2@30s"] {
            assert!(parse_partition(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_change("R2=new/R2.cfg@45s"),
            Ok(("R2".to_owned(), "new/R2.cfg".to_owned(), s(45)))
        );
        assert!(parse_change("R2@45s").is_err() && parse_change("=f@1s").is_err());
        assert_eq!(
            parse_nat("R2=203.0.113.2"),
            Ok(("R2".to_owned(), "203.0.113.2".parse().unwrap()))
        );
        assert!(parse_nat("R2=1.2.3").is_err());
        assert_eq!(parse_flow("R2,R3"), Ok(("R2".to_owned(), "R3".to_owned())));
        assert!(parse_flow("R2,R2").is_err() && parse_flow("R2").is_err());
        assert_eq!(parse_window("30s-90s"), Ok((s(30), s(90))));
        assert_eq!(parse_window("0-0"), Ok((s(0), s(0))));
        assert!(parse_window("90s-30s").is_err() && parse_window("30s").is_err());
        assert_eq!(parse_loss("5%"), Ok(5));
        assert_eq!(parse_loss("0"), Ok(0));
        assert!(parse_loss("101").is_err() && parse_loss("0.5").is_err());
    }
}
