//! Meeting codes like `kqz-rmtp-wfa`: ten letters in groups of 3, 4 and 3.
//!
//! The alphabet leaves out `i`, `l` and `o`, which are read as `1`, `I` and
//! `0` when a code is spoken or copied from a screen. Ten letters from 23
//! give about 45 bits: far too many to enumerate through a join endpoint that
//! rate-limits wrong codes.

use std::fmt;

/// The letters a code is made of.
pub(crate) const ALPHABET: &[u8; 23] = b"abcdefghjkmnpqrstuvwxyz";

/// Group lengths, joined by dashes.
const GROUPS: [usize; 3] = [3, 4, 3];

/// Number of letters in a code.
pub(crate) const LETTERS: usize = 10;

/// A canonical meeting code (lower case, dashed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MeetingCode(String);

impl MeetingCode {
    /// A fresh code from the OS random source.
    pub fn random() -> Self {
        let mut letters = Vec::with_capacity(LETTERS);
        // Rejection sampling: 253 = 11 × 23, so bytes below it map onto the
        // alphabet evenly; the rest would favour the first three letters.
        let limit = (256 / ALPHABET.len() * ALPHABET.len()) as u8;
        while letters.len() < LETTERS {
            let mut bytes = [0u8; 16];
            getrandom::fill(&mut bytes).expect("the OS random source failed");
            letters.extend(
                bytes
                    .iter()
                    .filter(|&&b| b < limit)
                    .map(|&b| ALPHABET[usize::from(b) % ALPHABET.len()]),
            );
        }
        letters.truncate(LETTERS);
        Self::from_letters(&letters)
    }

    /// Reads a code the way people type it: any case, with or without dashes
    /// or spaces. `None` when it cannot be a code (wrong length, or a letter
    /// no code contains).
    pub fn parse(input: &str) -> Option<Self> {
        let letters: Vec<u8> = input
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' ' | b'\t'))
            .map(|b| b.to_ascii_lowercase())
            .collect();
        let valid = letters.len() == LETTERS && letters.iter().all(|b| ALPHABET.contains(b));
        valid.then(|| Self::from_letters(&letters))
    }

    /// Keeps a stored code that does not parse (a row written by hand)
    /// as it is, so listing still shows it.
    pub(crate) fn verbatim(code: String) -> Self {
        Self(code)
    }

    /// The code as text, `kqz-rmtp-wfa`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    fn from_letters(letters: &[u8]) -> Self {
        let mut code = String::with_capacity(LETTERS + GROUPS.len() - 1);
        let mut at = 0;
        for (i, n) in GROUPS.iter().enumerate() {
            if i > 0 {
                code.push('-');
            }
            code.extend(letters[at..at + n].iter().map(|&b| char::from(b)));
            at += n;
        }
        Self(code)
    }
}

impl fmt::Display for MeetingCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn has_code_shape(code: &str) -> bool {
        let groups: Vec<&str> = code.split('-').collect();
        groups.iter().map(|g| g.len()).collect::<Vec<_>>() == GROUPS
            && groups
                .iter()
                .all(|g| g.bytes().all(|b| ALPHABET.contains(&b)))
    }

    #[test]
    fn random_codes_are_three_four_three_letters_without_look_alikes() {
        for _ in 0..1000 {
            let code = MeetingCode::random();
            assert!(has_code_shape(code.as_str()), "{code}");
            assert!(!code.as_str().contains(['i', 'l', 'o']), "{code}");
        }
    }

    #[test]
    fn random_codes_do_not_repeat_and_use_the_whole_alphabet() {
        let codes: HashSet<String> = (0..10_000)
            .map(|_| MeetingCode::random().as_str().to_owned())
            .collect();
        assert_eq!(codes.len(), 10_000);
        let used: HashSet<u8> = codes.iter().flat_map(|c| c.bytes()).collect();
        assert_eq!(used.len(), ALPHABET.len() + 1, "every letter and the dash");
    }

    #[test]
    fn parse_accepts_what_people_paste_and_gives_the_canonical_form() {
        for input in [
            "kqz-rmtp-wfa",
            "KQZ-RMTP-WFA",
            "kqzrmtpwfa",
            " kqz rmtp wfa ",
        ] {
            assert_eq!(
                MeetingCode::parse(input).map(|c| c.to_string()).as_deref(),
                Some("kqz-rmtp-wfa"),
                "{input:?}"
            );
        }
    }

    #[test]
    fn parse_refuses_wrong_lengths_and_letters_no_code_has() {
        for input in [
            "",
            "kqz-rmtp-wf",
            "kqz-rmtp-wfab",
            "kqz-rmtp-wf1",
            "kqz-rmtp-wfo",
        ] {
            assert_eq!(MeetingCode::parse(input), None, "{input:?}");
        }
    }
}
