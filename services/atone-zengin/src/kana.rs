//! The characters a 全銀 file carries: digits, upper-case Latin letters, half-width katakana
//! (JIS X 0201) and a few symbols. Names come in as people type them (full-width
//! katakana, hiragana, lower case, full-width digits) and go out as the bank reads them.

/// Full-width katakana and the half-width ones they become. Small kana are written large,
/// as banks do; the prolonged sound mark becomes a hyphen.
const FULL: &str = "アイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンァィゥェォャュョッヮー";
const HALF: &str = "ｱｲｳｴｵｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾅﾆﾇﾈﾉﾊﾋﾌﾍﾎﾏﾐﾑﾒﾓﾔﾕﾖﾗﾘﾙﾚﾛﾜｦﾝｱｲｳｴｵﾔﾕﾖﾂﾜ-";
/// Voiced (濁音) and semi-voiced (半濁音) katakana: the half-width base and its mark.
const VOICED: &str = "ガギグゲゴザジズゼゾダヂヅデドバビブベボヴ";
const VOICED_BASE: &str = "ｶｷｸｹｺｻｼｽｾｿﾀﾁﾂﾃﾄﾊﾋﾌﾍﾎｳ";
const SEMI_VOICED: &str = "パピプペポ";
const SEMI_VOICED_BASE: &str = "ﾊﾋﾌﾍﾎ";

/// Half-width small kana and the prolonged sound mark, which banks do not take: written
/// large, and as a hyphen, as the full-width ones are.
const HALF_SMALL: &str = "ｧｨｩｪｫｬｭｮｯｰ";
const HALF_SMALL_AS: &str = "ｱｲｳｴｵﾔﾕﾖﾂ-";

/// Symbols a field may hold besides digits, letters, kana and the space.
const SYMBOLS: &str = "().-/,\\";

/// `text` in the file's characters, or the first character that has none.
pub fn to_file_chars(text: &str) -> Result<String, char> {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = widen_hiragana(c);
        if let Some(i) = FULL.chars().position(|f| f == c) {
            out.extend(HALF.chars().nth(i));
        } else if let Some(i) = VOICED.chars().position(|f| f == c) {
            out.extend(VOICED_BASE.chars().nth(i));
            out.push('ﾞ');
        } else if let Some(i) = HALF_SMALL.chars().position(|f| f == c) {
            out.extend(HALF_SMALL_AS.chars().nth(i));
        } else if let Some(i) = SEMI_VOICED.chars().position(|f| f == c) {
            out.extend(SEMI_VOICED_BASE.chars().nth(i));
            out.push('ﾟ');
        } else {
            let c = narrow_ascii(c).to_ascii_uppercase();
            if !is_file_char(c) {
                return Err(c);
            }
            out.push(c);
        }
    }
    Ok(out)
}

/// Whether the file may carry `c` as it is.
pub fn is_file_char(c: char) -> bool {
    c.is_ascii_digit()
        || c.is_ascii_uppercase()
        || c == ' '
        || SYMBOLS.contains(c)
        || (('ｦ'..='ﾟ').contains(&c) && !HALF_SMALL.contains(c))
}

/// Hiragana as katakana (the same sound, U+3041–3096 to U+30A1–30F6).
fn widen_hiragana(c: char) -> char {
    if ('ぁ'..='ゖ').contains(&c) {
        char::from_u32(c as u32 + 0x60).unwrap_or(c)
    } else {
        c
    }
}

/// Full-width ASCII (U+FF01–FF5E) and the ideographic space as ASCII.
fn narrow_ascii(c: char) -> char {
    match c {
        '　' => ' ',
        '！'..='～' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        _ => c,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_half_width_kana_in_upper_case() {
        assert_eq!(to_file_chars("ヤマダ　タロウ").as_deref(), Ok("ﾔﾏﾀﾞ ﾀﾛｳ"));
        assert_eq!(to_file_chars("やまだ たろう").as_deref(), Ok("ﾔﾏﾀﾞ ﾀﾛｳ"));
        assert_eq!(to_file_chars("ペットショップ").as_deref(), Ok("ﾍﾟﾂﾄｼﾖﾂﾌﾟ"));
        assert_eq!(to_file_chars("ｶ)ｱﾄﾝ").as_deref(), Ok("ｶ)ｱﾄﾝ"));
        assert_eq!(to_file_chars("Ａｔｏｎｅ ０１").as_deref(), Ok("ATONE 01"));
        assert_eq!(to_file_chars("ヴァー").as_deref(), Ok("ｳﾞｱ-"));
        // Half-width small kana and ｰ, typed directly, are written as banks take them.
        assert_eq!(to_file_chars("ｷｬｯｼｭｰ").as_deref(), Ok("ｷﾔﾂｼﾕ-"));
        assert!(!is_file_char('ｧ') && !is_file_char('ｰ') && is_file_char('ｦ'));
    }

    #[test]
    fn a_character_the_file_cannot_carry_is_named() {
        assert_eq!(to_file_chars("山田"), Err('山'));
        assert_eq!(to_file_chars("A&B"), Err('&'));
        assert_eq!(to_file_chars("ﾀﾛｳ@"), Err('@'));
    }

    #[test]
    fn the_tables_line_up() {
        assert_eq!(FULL.chars().count(), HALF.chars().count());
        assert_eq!(VOICED.chars().count(), VOICED_BASE.chars().count());
        assert_eq!(
            SEMI_VOICED.chars().count(),
            SEMI_VOICED_BASE.chars().count()
        );
        assert!(HALF.chars().chain(VOICED_BASE.chars()).all(is_file_char));
    }
}
