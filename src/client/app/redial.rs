//! The dial dialog's redial history: numbers dialled before, unique, newest last, at most
//! [`MAX`]; Up and Down walk it from the number in the field, so the walk needs no state of
//! its own. Where it is kept on disk is the runtime's business ([`Effect::SaveRedial`]).

use std::path::PathBuf;

use super::Effect;

/// The most numbers kept.
pub const MAX: usize = 50;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redial {
    /// Oldest first, as in the file; no number twice.
    numbers: Vec<String>,
    /// The file it is saved to after each dial; `None` keeps it in memory (tests, no home).
    pub file: Option<PathBuf>,
}

impl Redial {
    /// A history read from `file`: duplicates dropped (the newest kept), capped at [`MAX`].
    pub fn new(numbers: impl IntoIterator<Item = String>, file: Option<PathBuf>) -> Redial {
        let mut r = Redial { numbers: Vec::new(), file };
        for n in numbers {
            r.add(n);
        }
        r
    }

    /// Oldest first.
    pub fn numbers(&self) -> &[String] {
        &self.numbers
    }

    /// A number was dialled: it becomes the newest. Returns the save of the history when it
    /// is kept in a file.
    pub fn push(&mut self, number: &str) -> Option<Effect> {
        self.add(number.to_string());
        let path = self.file.clone()?;
        Some(Effect::SaveRedial { path, numbers: self.numbers.clone() })
    }

    fn add(&mut self, number: String) {
        self.numbers.retain(|n| *n != number);
        self.numbers.push(number);
        let over = self.numbers.len().saturating_sub(MAX);
        self.numbers.drain(..over);
    }

    /// Where `field` is in the walk, newest first (0 is the newest).
    fn position(&self, field: &str) -> Option<usize> {
        self.numbers.iter().rev().position(|n| n == field)
    }

    fn back(&self, i: usize) -> Option<&str> {
        self.numbers.iter().rev().nth(i).map(String::as_str)
    }

    /// Up: the number dialled before the one in the field, or the newest when the field holds
    /// none of them. `None` at the oldest (the field stays).
    pub fn older(&self, field: &str) -> Option<&str> {
        match self.position(field) {
            Some(i) => self.back(i + 1),
            None => self.back(0),
        }
    }

    /// Down: the number dialled after the one in the field; past the newest, an empty field.
    /// `None` when the field is not from the history (it stays).
    pub fn newer(&self, field: &str) -> Option<&str> {
        match self.position(field)? {
            0 => Some(""),
            i => self.back(i - 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(ns: &[&str]) -> Redial {
        Redial::new(ns.iter().map(|s| s.to_string()), None)
    }

    #[test]
    fn up_walks_back_from_the_newest_and_down_returns() {
        let r = h(&["111", "222", "333"]);
        assert_eq!(r.older(""), Some("333"));
        assert_eq!(r.older("333"), Some("222"));
        assert_eq!(r.older("222"), Some("111"));
        assert_eq!(r.older("111"), None, "the oldest stays");
        assert_eq!(r.newer("111"), Some("222"));
        assert_eq!(r.newer("333"), Some(""), "past the newest: an empty field");
        assert_eq!(r.newer("98"), None, "a typed number is left alone");
        assert_eq!(r.older("98"), Some("333"));
        assert_eq!(h(&[]).older(""), None);
    }

    #[test]
    fn a_number_dialled_again_moves_to_the_front_once() {
        let mut r = h(&["111", "222", "111", "333"]);
        assert_eq!(r.numbers(), ["222", "111", "333"], "duplicates in the file keep the newest");
        assert_eq!(r.push("222"), None, "no file, no save");
        assert_eq!(r.numbers(), ["111", "333", "222"]);
        assert_eq!(r.older(""), Some("222"));
    }

    #[test]
    fn the_history_is_capped_dropping_the_oldest() {
        let mut r = Redial::new((0..60).map(|i| format!("{i:03}")), None);
        assert_eq!(r.numbers().len(), MAX);
        assert_eq!(r.numbers()[0], "010");
        r.file = Some(PathBuf::from("h"));
        let Some(Effect::SaveRedial { numbers, .. }) = r.push("999") else { panic!() };
        assert_eq!((numbers.len(), numbers[0].as_str(), numbers[49].as_str()), (MAX, "011", "999"));
    }
}
