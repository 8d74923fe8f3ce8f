//! The script-only lines of line mode (`wait`, `wait-for`), what the next line waits for, and
//! which log lines count as a failed command.

use std::time::Duration;

use tokio::time::Instant as Deadline;

use super::WAIT_FOR_DEFAULT;
use crate::client::app::{LogKind, LogLine};

/// The longest `wait` or `wait-for`.
const LONGEST: f64 = 3600.0;

/// One input line as the script reads it.
#[derive(Debug, Clone, PartialEq)]
pub enum ScriptLine {
    /// `wait N`
    Wait(Duration),
    /// `wait-for TEXT [N]`
    WaitFor { text: String, within: Duration },
    /// A script line written wrong, with the reason.
    Bad(String),
    /// Anything else is for the menu.
    Menu,
}

/// What the next line waits for.
#[derive(Debug, Clone, PartialEq)]
pub enum Gate {
    /// The first connection, until the deadline.
    Connection { until: Deadline },
    /// `wait N`.
    Pause { until: Deadline },
    /// A log line with `text`.
    WaitFor { text: String, within: Duration, until: Deadline },
    Open,
}

impl Gate {
    pub fn until(&self) -> Option<Deadline> {
        match self {
            Gate::Connection { until } | Gate::Pause { until } | Gate::WaitFor { until, .. } => Some(*until),
            Gate::Open => None,
        }
    }

    pub fn is_connection(&self) -> bool {
        matches!(self, Gate::Connection { .. })
    }
}

pub fn parse(line: &str) -> ScriptLine {
    let line = line.trim();
    let (head, rest) = line.split_once(char::is_whitespace).map_or((line, ""), |(h, r)| (h, r.trim()));
    match head {
        "wait" => match seconds(rest) {
            Some(d) => ScriptLine::Wait(d),
            // `wait` alone or with nonsense: the menu says it does not know it, as before.
            None => ScriptLine::Menu,
        },
        "wait-for" => wait_for(rest),
        _ => ScriptLine::Menu,
    }
}

/// `"quoted text" [N]`, or bare words with an optional number of seconds last.
fn wait_for(rest: &str) -> ScriptLine {
    let usage = || ScriptLine::Bad(format!("wait-for needs a text: wait-for \"Call answered\" 10 (got {rest:?})"));
    let (text, secs) = if let Some(quoted) = rest.strip_prefix('"') {
        let Some((text, after)) = quoted.split_once('"') else { return usage() };
        (text.to_string(), after.trim())
    } else {
        let words: Vec<&str> = rest.split_whitespace().collect();
        match words.split_last() {
            Some((last, before)) if !before.is_empty() && seconds(last).is_some() => (before.join(" "), *last),
            _ => (words.join(" "), ""),
        }
    };
    if text.is_empty() {
        return usage();
    }
    let within = if secs.is_empty() {
        WAIT_FOR_DEFAULT
    } else {
        match seconds(secs) {
            Some(d) => d,
            None => return ScriptLine::Bad(format!("wait-for: {secs:?} is not a number of seconds")),
        }
    };
    ScriptLine::WaitFor { text, within }
}

fn seconds(s: &str) -> Option<Duration> {
    let n = s.trim().parse::<f64>().ok().filter(|n| n.is_finite())?;
    Some(Duration::from_secs_f64(n.clamp(0.0, LONGEST)))
}

/// An error line, except the drop of a connection the script asked to reconnect.
pub fn is_failure(l: &LogLine) -> bool {
    l.kind == LogKind::Error && !l.text.starts_with("disconnected: reconnect requested")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(text: &str, secs: u64) -> ScriptLine {
        ScriptLine::WaitFor { text: text.into(), within: Duration::from_secs(secs) }
    }

    #[test]
    fn wait_for_takes_quoted_or_bare_text_and_optional_seconds() {
        assert_eq!(parse("wait 0.5"), ScriptLine::Wait(Duration::from_millis(500)));
        assert_eq!(parse("wait"), ScriptLine::Menu);
        assert_eq!(parse(r#"wait-for "Call answered" 10"#), wf("Call answered", 10));
        assert_eq!(parse(r#"wait-for "Call answered""#), wf("Call answered", 30));
        assert_eq!(parse("wait-for Call answered 10"), wf("Call answered", 10));
        assert_eq!(parse("wait-for answered"), wf("answered", 30));
        assert_eq!(parse("wait-for 10"), wf("10", 30), "a lone number is the text");
        assert!(matches!(parse("wait-for"), ScriptLine::Bad(_)));
        assert!(matches!(parse(r#"wait-for "unclosed 10"#), ScriptLine::Bad(_)));
        assert!(matches!(parse(r#"wait-for "x" soon"#), ScriptLine::Bad(_)));
        assert_eq!(parse("1"), ScriptLine::Menu);
        assert_eq!(parse("waiting"), ScriptLine::Menu);
    }
}
