use super::{Invalid, check_length, string_newtype};

/// A 10-digit NHS number whose last digit is a correct Modulus 11 check digit.
///
/// The check proves the format only, never that the number belongs to the person.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NhsNumber(String);

impl NhsNumber {
    /// Accepts the digits with or without the usual spaces or hyphens (`943 476 5919`).
    pub fn parse(input: &str) -> Result<Self, Invalid> {
        check_length(input, "NHS number")?;
        let digits: String = input.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
        if digits.len() != 10 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Invalid::new("nhs_number_format", "An NHS number is 10 digits, for example 943 476 5919."));
        }
        let values: Vec<u32> = digits.bytes().map(|b| u32::from(b - b'0')).collect();
        let weighted: u32 = values[..9].iter().zip((2..=10).rev()).map(|(digit, weight)| digit * weight).sum();
        let check = match 11 - weighted % 11 {
            11 => 0,
            10 => {
                return Err(Invalid::new(
                    "nhs_number_check_digit",
                    "This is not a valid NHS number: no check digit fits its first nine digits.",
                ));
            }
            check => check,
        };
        if check != values[9] {
            return Err(Invalid::new(
                "nhs_number_check_digit",
                "The check digit does not match: this is not a valid NHS number.",
            ));
        }
        Ok(Self(digits))
    }
}

string_newtype!(
    NhsNumber,
    pattern = "^[0-9]{10}$",
    description = "An NHS number: 10 digits, the last a Modulus 11 check digit (the server checks it).",
    example = "9434765919"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_published_valid_numbers_in_any_usual_layout() {
        for input in ["9434765919", "943 476 5919", "943-476-5919", "6541003238"] {
            let number = NhsNumber::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(number.as_str().len(), 10);
        }
        assert_eq!(NhsNumber::parse("943 476 5919").unwrap().as_str(), "9434765919");
    }

    #[test]
    fn rejects_a_wrong_check_digit() {
        assert_eq!(NhsNumber::parse("9434765918").unwrap_err().code, "nhs_number_check_digit");
    }

    #[test]
    fn rejects_numbers_for_which_no_check_digit_exists() {
        // 100000001: weighted sum 10*1 + 2*1 = 12, remainder 1, so the check digit would have to be 10.
        for last in 0..=9 {
            let err = NhsNumber::parse(&format!("100000001{last}")).unwrap_err();
            assert_eq!(err.code, "nhs_number_check_digit");
        }
    }

    #[test]
    fn rejects_wrong_lengths_and_letters() {
        for input in ["943476591", "94347659190", "94347659A9", "", "   "] {
            assert!(NhsNumber::parse(input).is_err(), "{input:?} should be refused");
        }
    }
}
