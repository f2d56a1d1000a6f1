//! Go `text/template` lexer: splits a template into text and the tokens of its actions.
//!
//! Follows Go's rules: `{{- ` and ` -}}` trim the adjacent text's white space, comments are
//! `{{/* ... */}}` and must end at the closing delimiter, actions may span lines.

use std::borrow::Cow;

use super::TemplateError;

/// A token's text is borrowed from the source (only a string literal with escapes is
/// decoded into text of its own): the parser backtracks and clones tokens, which must
/// not allocate.
#[derive(Debug, Clone, PartialEq)]
pub enum Tok<'a> {
    Text(&'a str),
    LeftDelim,
    RightDelim,
    /// A `.Name` field (the name without the dot).
    Field(&'a str),
    /// A bare `.`.
    Dot,
    /// `$` or `$name`, with the dollar.
    Variable(&'a str),
    Ident(&'a str),
    Keyword(Keyword),
    Bool(bool),
    /// The literal's text, parsed later.
    Number(&'a str),
    /// A char constant's text, e.g. `'a'`.
    Char(&'a str),
    /// The unquoted value.
    Str(Cow<'a, str>),
    Pipe,
    LeftParen,
    RightParen,
    Declare,
    Assign,
    Comma,
    Space,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keyword {
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Nil,
    Range,
    Template,
    With,
}

#[derive(Debug, Clone)]
pub struct Token<'a> {
    pub tok: Tok<'a>,
    /// Byte offset in the source.
    pub pos: usize,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

pub fn lex<'a>(name: &str, src: &'a str) -> Result<Vec<Token<'a>>, TemplateError> {
    let mut lexer = Lexer {
        name,
        src,
        pos: 0,
        tokens: Vec::new(),
        paren_depth: 0,
    };
    lexer.run()?;
    Ok(lexer.tokens)
}

struct Lexer<'n, 'a> {
    name: &'n str,
    src: &'a str,
    pos: usize,
    tokens: Vec<Token<'a>>,
    paren_depth: usize,
}

impl<'a> Lexer<'_, 'a> {
    fn error(&self, pos: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::at(self.name, self.src, pos, message)
    }

    fn push(&mut self, tok: Tok<'a>, pos: usize) {
        self.tokens.push(Token { tok, pos });
    }

    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn run(&mut self) -> Result<(), TemplateError> {
        let mut trim_next_text = false;
        while self.pos < self.src.len() {
            let start = self.pos;
            let next = self.rest().find(LEFT).map(|i| start + i);
            let end = next.unwrap_or(self.src.len());
            let mut text = &self.src[start..end];
            if trim_next_text {
                text = text.trim_start_matches(|c: char| c.is_ascii() && is_space(c as u8));
            }
            let trim_left = next.is_some() && self.has_left_trim(end);
            if trim_left {
                text = text.trim_end_matches(|c: char| c.is_ascii() && is_space(c as u8));
            }
            if !text.is_empty() {
                self.push(Tok::Text(text), start);
            }
            let Some(delim) = next else { break };
            self.pos = delim + LEFT.len();
            if trim_left {
                self.pos += 2;
            }
            trim_next_text = self.lex_action(delim)?;
        }
        Ok(())
    }

    /// `{{- ` : a dash then white space right after the delimiter.
    fn has_left_trim(&self, delim: usize) -> bool {
        let bytes = self.src.as_bytes();
        let after = delim + LEFT.len();
        bytes.get(after) == Some(&b'-') && bytes.get(after + 1).is_some_and(|&c| is_space(c))
    }

    /// ` -}}` at the current position.
    fn at_right_trim(&self) -> bool {
        let rest = self.rest().as_bytes();
        rest.len() >= 4 && is_space(rest[0]) && rest[1] == b'-' && &rest[2..4] == b"}}"
    }

    /// Lexes one action (or comment) from just after `{{`; returns whether it trims the
    /// following text.
    fn lex_action(&mut self, delim: usize) -> Result<bool, TemplateError> {
        if self.rest().starts_with("/*") {
            return self.lex_comment(delim);
        }
        self.push(Tok::LeftDelim, delim);
        loop {
            if self.at_right_trim() {
                if self.paren_depth > 0 {
                    return Err(self.error(self.pos, "unclosed left paren"));
                }
                self.pos += 4;
                self.push(Tok::RightDelim, self.pos - 2);
                return Ok(true);
            }
            if self.rest().starts_with(RIGHT) {
                if self.paren_depth > 0 {
                    return Err(self.error(self.pos, "unclosed left paren"));
                }
                self.push(Tok::RightDelim, self.pos);
                self.pos += 2;
                return Ok(false);
            }
            let Some(c) = self.rest().chars().next() else {
                return Err(self.error(delim, "unclosed action"));
            };
            self.lex_inside(c)?;
        }
    }

    fn lex_comment(&mut self, delim: usize) -> Result<bool, TemplateError> {
        let Some(end) = self.rest().find("*/") else {
            return Err(self.error(delim, "unclosed comment"));
        };
        self.pos += end + 2;
        if self.at_right_trim() {
            self.pos += 4;
            return Ok(true);
        }
        if self.rest().starts_with(RIGHT) {
            self.pos += 2;
            return Ok(false);
        }
        Err(self.error(delim, "comment ends before closing delimiter"))
    }

    fn lex_inside(&mut self, c: char) -> Result<(), TemplateError> {
        let start = self.pos;
        match c {
            c if c.is_ascii() && is_space(c as u8) => {
                let mut len = self.rest().bytes().take_while(|&b| is_space(b)).count();
                // The last blank before `-}}` belongs to the trim marker ` -}}`: leave it,
                // as Go's lexer backs up one character there.
                if self.rest()[len..].starts_with("-}}") {
                    len -= 1;
                }
                self.pos += len;
                if len > 0 {
                    self.push(Tok::Space, start);
                }
            }
            '=' => self.single(Tok::Assign),
            ':' => {
                if !self.rest().starts_with(":=") {
                    return Err(self.error(start, "expected :="));
                }
                self.pos += 2;
                self.push(Tok::Declare, start);
            }
            '|' => self.single(Tok::Pipe),
            ',' => self.single(Tok::Comma),
            '(' => {
                self.paren_depth += 1;
                self.single(Tok::LeftParen);
            }
            ')' => {
                if self.paren_depth == 0 {
                    return Err(self.error(start, "unexpected right paren"));
                }
                self.paren_depth -= 1;
                self.single(Tok::RightParen);
            }
            '"' => self.lex_quote()?,
            '`' => self.lex_raw_quote()?,
            '\'' => self.lex_char()?,
            '$' => {
                self.pos += 1;
                self.take_alnum();
                self.push(Tok::Variable(&self.src[start..self.pos]), start);
            }
            '.' => {
                let next = self.src[start + 1..].chars().next();
                if next.is_some_and(|n| n.is_ascii_digit()) {
                    return self.lex_number();
                }
                self.pos += 1;
                if next.is_some_and(is_alnum) {
                    let name = self.take_alnum();
                    self.push(Tok::Field(name), start);
                } else {
                    self.push(Tok::Dot, start);
                }
            }
            '+' | '-' | '0'..='9' => self.lex_number()?,
            c if is_alnum(c) => {
                let word = self.take_alnum();
                let tok = keyword(word).unwrap_or(Tok::Ident(word));
                self.push(tok, start);
            }
            c => {
                return Err(self.error(start, format!("unrecognized character in action: {c:?}")));
            }
        }
        Ok(())
    }

    fn single(&mut self, tok: Tok<'a>) {
        self.push(tok, self.pos);
        self.pos += 1;
    }

    fn take_alnum(&mut self) -> &'a str {
        let len: usize = self
            .rest()
            .chars()
            .take_while(|&c| is_alnum(c))
            .map(char::len_utf8)
            .sum();
        let word = &self.rest()[..len];
        self.pos += len;
        word
    }

    fn lex_number(&mut self) -> Result<(), TemplateError> {
        let start = self.pos;
        let len = self
            .rest()
            .char_indices()
            .take_while(|&(i, c)| {
                c.is_ascii_alphanumeric()
                    || c == '.'
                    || c == '_'
                    || (i == 0 && (c == '+' || c == '-'))
                    || ((c == '+' || c == '-') && self.exponent_sign(start, start + i))
            })
            .count();
        let text = &self.src[start..start + len];
        self.pos += len;
        self.push(Tok::Number(text), start);
        Ok(())
    }

    /// A sign inside a number is part of it only right after an exponent marker.
    fn exponent_sign(&self, start: usize, at: usize) -> bool {
        let prev = self.src.as_bytes()[at - 1];
        let digits = self.src[start..at].trim_start_matches(['+', '-']);
        let is_hex = digits.starts_with("0x") || digits.starts_with("0X");
        matches!(prev, b'e' | b'E') && !is_hex || matches!(prev, b'p' | b'P')
    }

    fn lex_quote(&mut self) -> Result<(), TemplateError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                None | Some(b'\n') => return Err(self.error(start, "unterminated quoted string")),
                Some(b'\\') => i += 2,
                Some(b'"') => break,
                Some(_) => i += 1,
            }
        }
        let raw = &self.src[start..=i];
        let value = if raw.contains('\\') {
            Cow::Owned(
                unquote(raw).ok_or_else(|| self.error(start, format!("invalid syntax: {raw}")))?,
            )
        } else {
            Cow::Borrowed(&raw[1..raw.len() - 1])
        };
        self.pos = i + 1;
        self.push(Tok::Str(value), start);
        Ok(())
    }

    fn lex_raw_quote(&mut self) -> Result<(), TemplateError> {
        let start = self.pos;
        let Some(end) = self.src[start + 1..].find('`') else {
            return Err(self.error(start, "unterminated raw quoted string"));
        };
        let raw = &self.src[start + 1..start + 1 + end];
        let value = if raw.contains('\r') {
            Cow::Owned(raw.replace('\r', ""))
        } else {
            Cow::Borrowed(raw)
        };
        self.pos = start + end + 2;
        self.push(Tok::Str(value), start);
        Ok(())
    }

    fn lex_char(&mut self) -> Result<(), TemplateError> {
        let start = self.pos;
        let bytes = self.src.as_bytes();
        let mut i = start + 1;
        loop {
            match bytes.get(i) {
                None | Some(b'\n') => {
                    return Err(self.error(start, "unterminated character constant"));
                }
                Some(b'\\') => i += 2,
                Some(b'\'') => break,
                Some(_) => i += 1,
            }
        }
        self.pos = i + 1;
        self.push(Tok::Char(&self.src[start..=i]), start);
        Ok(())
    }
}

fn keyword(word: &str) -> Option<Tok<'static>> {
    let keyword = match word {
        "block" => Keyword::Block,
        "break" => Keyword::Break,
        "continue" => Keyword::Continue,
        "define" => Keyword::Define,
        "else" => Keyword::Else,
        "end" => Keyword::End,
        "if" => Keyword::If,
        "nil" => Keyword::Nil,
        "range" => Keyword::Range,
        "template" => Keyword::Template,
        "with" => Keyword::With,
        "true" => return Some(Tok::Bool(true)),
        "false" => return Some(Tok::Bool(false)),
        _ => return None,
    };
    Some(Tok::Keyword(keyword))
}

/// Go's `strconv.Unquote` for a double-quoted or single-quoted literal.
pub fn unquote(raw: &str) -> Option<String> {
    let inner = raw.get(1..raw.len().checked_sub(1)?)?;
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let escaped = chars.next()?;
        let decoded = match escaped {
            'a' => '\x07',
            'b' => '\x08',
            'f' => '\x0c',
            'n' => '\n',
            'r' => '\r',
            't' => '\t',
            'v' => '\x0b',
            '\\' => '\\',
            '\'' => '\'',
            '"' => '"',
            'x' => char::from_u32(hex_digits(&mut chars, 2)?)?,
            'u' => char::from_u32(hex_digits(&mut chars, 4)?)?,
            'U' => char::from_u32(hex_digits(&mut chars, 8)?)?,
            '0'..='7' => {
                let mut value = escaped.to_digit(8)?;
                for _ in 0..2 {
                    value = value * 8 + chars.next()?.to_digit(8)?;
                }
                char::from_u32(value)?
            }
            _ => return None,
        };
        out.push(decoded);
    }
    Some(out)
}

fn hex_digits(chars: &mut impl Iterator<Item = char>, count: usize) -> Option<u32> {
    let mut value = 0;
    for _ in 0..count {
        value = value * 16 + chars.next()?.to_digit(16)?;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Tok<'_>> {
        lex("t", src)
            .unwrap()
            .into_iter()
            .map(|t| t.tok)
            .filter(|t| *t != Tok::Space)
            .collect()
    }

    #[test]
    fn trims_around_markers() {
        assert_eq!(
            kinds("a  {{- .X -}}  b"),
            vec![
                Tok::Text("a"),
                Tok::LeftDelim,
                Tok::Field("X"),
                Tok::RightDelim,
                Tok::Text("b")
            ]
        );
    }

    #[test]
    fn a_run_of_blanks_before_a_right_trim_marker() {
        let expected = vec![
            Tok::LeftDelim,
            Tok::Str("x".into()),
            Tok::RightDelim,
            Tok::Text("b"),
        ];
        assert_eq!(kinds("{{ \"x\"  -}}  b"), expected);
        assert_eq!(kinds("{{ \"x\" \t\n -}}\nb"), expected);
    }

    #[test]
    fn negative_numbers_are_not_trim_markers() {
        assert_eq!(
            kinds("{{-3}}"),
            vec![Tok::LeftDelim, Tok::Number("-3"), Tok::RightDelim]
        );
    }

    #[test]
    fn exponent_signs_belong_to_the_number() {
        assert_eq!(
            kinds("{{ 0x1F }}{{ 1e-3 }}"),
            vec![
                Tok::LeftDelim,
                Tok::Number("0x1F"),
                Tok::RightDelim,
                Tok::LeftDelim,
                Tok::Number("1e-3"),
                Tok::RightDelim
            ]
        );
    }

    #[test]
    fn comments_vanish() {
        assert_eq!(
            kinds("x {{- /* c */ -}} y"),
            vec![Tok::Text("x"), Tok::Text("y")]
        );
    }
}
