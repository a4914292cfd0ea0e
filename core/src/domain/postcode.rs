use std::sync::LazyLock;

use regex::Regex;

use super::{Invalid, check_length, string_newtype};

/// A UK postcode in its normal form: upper case, one space before the inward code (`SW1A 1AA`).
///
/// Also accepts `GIR 0AA`, British Forces `BFPO` numbers and the NHS pseudo-postcodes (`ZZ99 3VZ`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Postcode(String);

/// Outward code (AN, ANN, AAN, AANN, ANA, AANA) then inward code (NAA), without the space.
static POSTCODE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:[A-Z][0-9]{1,2}|[A-Z]{2}[0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z]{2}[0-9][A-Z])[0-9][A-Z]{2}$")
        .expect("postcode pattern compiles")
});
static BFPO: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^BFPO ?([0-9]{1,4})$").expect("BFPO pattern compiles"));

impl Postcode {
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        check_length(input, "postcode")?;
        let upper = input.trim().to_ascii_uppercase();
        if let Some(number) = BFPO.captures(&upper) {
            return Ok(Self(format!("BFPO {}", &number[1])));
        }
        let compact: String = upper.chars().filter(|c| !c.is_whitespace()).collect();
        if compact == "GIR0AA" || POSTCODE.is_match(&compact) {
            let (outward, inward) = compact.split_at(compact.len() - 3);
            return Ok(Self(format!("{outward} {inward}")));
        }
        Err(Invalid::new("postcode_format", "This is not a UK postcode. Enter it like SW1A 1AA."))
    }
}

string_newtype!(
    Postcode,
    pattern = r"^([A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}|GIR 0AA|BFPO [0-9]{1,4})$",
    description = "A UK postcode in normal form (upper case, one space before the inward code). \
                   Input in any case and spacing is accepted and normalised.",
    example = "SW1A 1AA"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_spacing_for_every_outward_shape() {
        let cases = [
            ("m1 1ae", "M1 1AE"),       // AN
            ("B338TH", "B33 8TH"),      // ANN
            ("cr2 6xh", "CR2 6XH"),     // AAN
            ("DN55  1PT", "DN55 1PT"),  // AANN
            ("w1a 0ax", "W1A 0AX"),     // ANA
            (" ec1a 1bb ", "EC1A 1BB"), // AANA
            ("gir0aa", "GIR 0AA"),
            ("ZZ99 3VZ", "ZZ99 3VZ"), // NHS pseudo-postcode
            ("bfpo 801", "BFPO 801"),
            ("BFPO123", "BFPO 123"),
        ];
        for (input, expected) in cases {
            assert_eq!(Postcode::parse(input).map(|p| p.0), Ok(expected.to_owned()), "{input:?}");
        }
    }

    #[test]
    fn rejects_what_is_not_a_postcode() {
        for input in ["SW1A", "1AA SW1A", "SW1A 1A", "SW1AA 1AA", "S 1AA", "QQQQ 1AA", "SW1A-1AA", "12345", ""] {
            assert!(Postcode::parse(input).is_err(), "{input:?} should be refused");
        }
    }

    #[test]
    fn refuses_long_input_before_matching() {
        assert_eq!(Postcode::parse(&"A".repeat(1000)).unwrap_err().code, "too_long");
    }
}
