//! Durations written as Go and Kratos write them: `1h30m`, `15m`, `720h`, `30s`, `500ms`.

use chrono::TimeDelta;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A positive duration parsed from Go notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GoDuration(pub TimeDelta);

impl GoDuration {
    /// Parses `1h30m`-style text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("a duration cannot be empty".to_owned());
        }
        let mut total_ms: i64 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!(
                    "`{text}` is not a duration like `24h`, `15m` or `1h30m`"
                ));
            }
            let number: i64 = rest[..digits]
                .parse()
                .map_err(|_| format!("`{text}` is too large"))?;
            rest = &rest[digits..];
            let unit_len = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let factor_ms = match &rest[..unit_len] {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "" => return Err(format!("`{text}` needs a unit (ms, s, m or h)")),
                other => {
                    return Err(format!(
                        "`{other}` in `{text}` is not a unit (ms, s, m or h)"
                    ));
                }
            };
            rest = &rest[unit_len..];
            total_ms = number
                .checked_mul(factor_ms)
                .and_then(|ms| total_ms.checked_add(ms))
                .ok_or_else(|| format!("`{text}` is too large"))?;
        }
        Ok(Self(TimeDelta::milliseconds(total_ms)))
    }
}

impl fmt::Display for GoDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0.num_milliseconds();
        if ms % 3_600_000 == 0 {
            write!(f, "{}h", ms / 3_600_000)
        } else if ms % 60_000 == 0 {
            write!(f, "{}m", ms / 60_000)
        } else if ms % 1_000 == 0 {
            write!(f, "{}s", ms / 1_000)
        } else {
            write!(f, "{ms}ms")
        }
    }
}

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        GoDuration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for GoDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_notation() {
        assert_eq!(GoDuration::parse("24h").unwrap().0, TimeDelta::hours(24));
        assert_eq!(
            GoDuration::parse("1h30m").unwrap().0,
            TimeDelta::minutes(90)
        );
        assert_eq!(
            GoDuration::parse("500ms").unwrap().0,
            TimeDelta::milliseconds(500)
        );
        assert_eq!(GoDuration::parse("15m").unwrap().to_string(), "15m");
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(GoDuration::parse("").is_err());
        assert!(GoDuration::parse("10").unwrap_err().contains("unit"));
        assert!(GoDuration::parse("10d").unwrap_err().contains("not a unit"));
        assert!(GoDuration::parse("h").is_err());
        assert!(
            GoDuration::parse("99999999999999999h")
                .unwrap_err()
                .contains("too large")
        );
    }
}
