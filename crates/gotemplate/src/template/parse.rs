//! Go `text/template` parser: tokens -> a tree per template, plus the `define`d ones.
//!
//! Mirrors `text/template/parse`: functions must exist at parse time, variables must be
//! declared before use, `else if`/`else with` chain without extra `end`s.

use foldhash::HashMap;

use super::TemplateError;
use super::ast::{Arg, Branch, Command, List, Name, Node, Pipe};
use super::lex::{Keyword, Tok, Token, lex};
use super::number::{parse_char, parse_number};

/// The trees of one source file: its own body and the templates it defines, in order.
pub struct Parsed {
    pub root: List,
    pub defines: Vec<(String, List)>,
}

pub fn parse(
    name: &str,
    src: &str,
    has_function: &dyn Fn(&str) -> bool,
) -> Result<Parsed, TemplateError> {
    let tokens = lex(name, src)?;
    let mut parser = Parser {
        name,
        src,
        tokens,
        pos: 0,
        vars: vec!["$"],
        has_function,
        defines: Vec::new(),
        range_depth: 0,
        names: HashMap::default(),
    };
    let root = parser.parse_top()?;
    Ok(Parsed {
        root,
        defines: parser.defines,
    })
}

/// How an item list ended.
enum End {
    Eof,
    /// `{{end}}`
    Close,
    Else(usize),
}

struct Parser<'a> {
    name: &'a str,
    src: &'a str,
    tokens: Vec<Token<'a>>,
    pos: usize,
    vars: Vec<&'a str>,
    has_function: &'a dyn Fn(&str) -> bool,
    defines: Vec<(String, List)>,
    range_depth: usize,
    names: HashMap<&'a str, Name>,
}

impl<'a> Parser<'a> {
    fn name(&mut self, text: &'a str) -> Name {
        self.names
            .entry(text)
            .or_insert_with(|| Name::from(text))
            .clone()
    }

    fn error(&self, pos: usize, message: impl Into<String>) -> TemplateError {
        TemplateError::at(self.name, self.src, pos, message)
    }

    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        token
    }

    fn skip_space(&mut self) {
        while self.peek().is_some_and(|t| t.tok == Tok::Space) {
            self.pos += 1;
        }
    }

    fn peek_non_space(&mut self) -> Option<&Token<'a>> {
        self.skip_space();
        self.peek()
    }

    fn next_non_space(&mut self) -> Result<Token<'a>, TemplateError> {
        self.skip_space();
        let end = self.src.len();
        self.next().ok_or_else(|| self.error(end, "unexpected EOF"))
    }

    fn expect(&mut self, want: Tok<'a>, context: &str) -> Result<Token<'a>, TemplateError> {
        let token = self.next_non_space()?;
        if token.tok != want {
            return Err(self.unexpected(&token, context));
        }
        Ok(token)
    }

    fn unexpected(&self, token: &Token, context: &str) -> TemplateError {
        self.error(
            token.pos,
            format!("unexpected {} in {context}", describe(&token.tok)),
        )
    }

    fn parse_top(&mut self) -> Result<List, TemplateError> {
        let mut list = Vec::new();
        while let Some(token) = self.peek().cloned() {
            if token.tok == Tok::LeftDelim && self.next_is_keyword(Keyword::Define) {
                self.pos += 1;
                self.skip_space();
                self.pos += 1;
                self.parse_define(token.pos)?;
                continue;
            }
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                Item::End(pos) | Item::Else(pos) => {
                    return Err(self.error(pos, "unexpected {{end}}"));
                }
            }
        }
        Ok(tight(list))
    }

    fn next_is_keyword(&self, keyword: Keyword) -> bool {
        self.tokens[self.pos + 1..]
            .iter()
            .find(|t| t.tok != Tok::Space)
            .is_some_and(|t| t.tok == Tok::Keyword(keyword))
    }

    fn parse_define(&mut self, pos: usize) -> Result<(), TemplateError> {
        let name = self.template_name("define clause")?;
        self.expect(Tok::RightDelim, "define clause")?;
        let saved = std::mem::replace(&mut self.vars, vec!["$"]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        match end {
            End::Close => {}
            End::Else(at) => return Err(self.error(at, "unexpected {{else}} in define")),
            End::Eof => return Err(self.error(pos, "unexpected EOF")),
        }
        self.defines.push((name, list));
        Ok(())
    }

    fn template_name(&mut self, context: &str) -> Result<String, TemplateError> {
        let token = self.next_non_space()?;
        match token.tok {
            Tok::Str(name) => Ok(name.into_owned()),
            _ => Err(self.unexpected(&token, context)),
        }
    }

    /// Items until `{{end}}`, `{{else}}` or the end of input.
    fn item_list(&mut self) -> Result<(List, End), TemplateError> {
        let mut list = Vec::new();
        while self.peek().is_some() {
            match self.text_or_action()? {
                Item::Node(node) => list.push(node),
                Item::End(_) => return Ok((tight(list), End::Close)),
                Item::Else(pos) => return Ok((tight(list), End::Else(pos))),
            }
        }
        Ok((tight(list), End::Eof))
    }

    fn text_or_action(&mut self) -> Result<Item, TemplateError> {
        let token = self.next().expect("caller checked for a token");
        match token.tok {
            Tok::Text(text) => Ok(Item::Node(Node::Text(text.to_string()))),
            Tok::LeftDelim => self.action(),
            other => Err(self.error(token.pos, format!("unexpected {}", describe(&other)))),
        }
    }

    fn action(&mut self) -> Result<Item, TemplateError> {
        let token = self
            .peek_non_space()
            .cloned()
            .ok_or_else(|| self.error(self.src.len(), "unclosed action"))?;
        let Tok::Keyword(keyword) = token.tok else {
            let pipe = self.pipeline("command", Tok::RightDelim)?;
            return Ok(Item::Node(Node::Action(pipe)));
        };
        self.pos += 1;
        let pos = token.pos;
        let node = match keyword {
            Keyword::End => {
                self.expect(Tok::RightDelim, "end")?;
                return Ok(Item::End(pos));
            }
            Keyword::Else => {
                // `else if`/`else with` leave the keyword for the enclosing control to see.
                let next = self.peek_non_space().map(|t| t.tok.clone());
                if !matches!(next, Some(Tok::Keyword(Keyword::If | Keyword::With))) {
                    self.expect(Tok::RightDelim, "else")?;
                }
                return Ok(Item::Else(pos));
            }
            Keyword::If => Node::If(Box::new(self.control(pos, "if")?)),
            Keyword::With => Node::With(Box::new(self.control(pos, "with")?)),
            Keyword::Range => {
                self.range_depth += 1;
                let branch = self.control(pos, "range");
                self.range_depth -= 1;
                Node::Range(Box::new(branch?))
            }
            Keyword::Template => self.template_call(pos)?,
            Keyword::Block => self.block(pos)?,
            Keyword::Break | Keyword::Continue => {
                if self.range_depth == 0 {
                    return Err(self.error(
                        pos,
                        format!("{{{{{}}}}} outside {{{{range}}}}", keyword_name(keyword)),
                    ));
                }
                self.expect(Tok::RightDelim, keyword_name(keyword))?;
                if keyword == Keyword::Break {
                    Node::Break
                } else {
                    Node::Continue
                }
            }
            Keyword::Define => {
                return Err(self.error(pos, "unexpected <define> in command"));
            }
            Keyword::Nil => {
                self.pos -= 1;
                let pipe = self.pipeline("command", Tok::RightDelim)?;
                Node::Action(pipe)
            }
        };
        Ok(Item::Node(node))
    }

    fn control(&mut self, pos: usize, context: &str) -> Result<Branch, TemplateError> {
        let vars = self.vars.len();
        let pipe = self.pipeline(context, Tok::RightDelim)?;
        let (list, end) = self.item_list()?;
        let else_list = match end {
            End::Close => None,
            End::Eof => return Err(self.error(pos, format!("unexpected EOF in {context}"))),
            End::Else(else_pos) => Some(self.else_list(else_pos, context)?),
        };
        self.vars.truncate(vars);
        Ok(Branch {
            pipe,
            list,
            else_list,
        })
    }

    fn else_list(&mut self, else_pos: usize, context: &str) -> Result<List, TemplateError> {
        let chained = match self.peek_non_space().map(|t| &t.tok) {
            Some(Tok::Keyword(Keyword::If)) if context == "if" => Some("if"),
            Some(Tok::Keyword(Keyword::With)) if context == "with" => Some("with"),
            Some(Tok::Keyword(Keyword::If | Keyword::With)) => {
                return Err(self.error(
                    else_pos,
                    format!("unexpected keyword after {{{{else}}}} in {context}"),
                ));
            }
            _ => None,
        };
        if let Some(kind) = chained {
            let at = self.next().map_or(else_pos, |t| t.pos);
            let branch = self.control(at, kind)?;
            let node = if kind == "if" {
                Node::If(Box::new(branch))
            } else {
                Node::With(Box::new(branch))
            };
            return Ok(vec![node]);
        }
        let (list, end) = self.item_list()?;
        match end {
            End::Close => Ok(list),
            End::Else(at) => Err(self.error(at, "expected end; found {{else}}")),
            End::Eof => Err(self.error(else_pos, format!("unexpected EOF in {context}"))),
        }
    }

    fn template_call(&mut self, pos: usize) -> Result<Node, TemplateError> {
        let name = self.template_name("template clause")?;
        let pipe = match self.peek_non_space().map(|t| &t.tok) {
            Some(Tok::RightDelim) => {
                self.pos += 1;
                None
            }
            _ => Some(Box::new(self.pipeline("template clause", Tok::RightDelim)?)),
        };
        Ok(Node::Template { pos, name, pipe })
    }

    /// `{{block "name" pipeline}} body {{end}}` = define "name" + template "name" pipeline.
    fn block(&mut self, pos: usize) -> Result<Node, TemplateError> {
        let name = self.template_name("block clause")?;
        let pipe = self.pipeline("block clause", Tok::RightDelim)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$"]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if !matches!(end, End::Close) {
            return Err(self.error(pos, "expected end in block clause"));
        }
        self.defines.push((name.clone(), list));
        Ok(Node::Template {
            pos,
            name,
            pipe: Some(Box::new(pipe)),
        })
    }

    fn pipeline(&mut self, context: &str, end: Tok) -> Result<Pipe, TemplateError> {
        let src_end = self.src.len();
        let pos = self.peek_non_space().map_or(src_end, |t| t.pos);
        let mut pipe = Pipe {
            pos,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        self.declarations(&mut pipe, context)?;
        loop {
            let token = self.next_non_space()?;
            if token.tok == end {
                break;
            }
            match token.tok {
                Tok::Bool(_)
                | Tok::Char(_)
                | Tok::Dot
                | Tok::Field(_)
                | Tok::Ident(_)
                | Tok::Number(_)
                | Tok::Keyword(Keyword::Nil)
                | Tok::Str(_)
                | Tok::Variable(_)
                | Tok::LeftParen => {
                    self.pos -= 1;
                    let command = self.command()?;
                    pipe.cmds.push(command);
                }
                _ => return Err(self.unexpected(&token, context)),
            }
        }
        if pipe.cmds.is_empty() {
            return Err(self.error(pos, format!("missing value for {context}")));
        }
        pipe.cmds.shrink_to_fit();
        for (i, cmd) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                cmd.args[0],
                Arg::Bool(_) | Arg::Dot | Arg::Nil | Arg::Number(_) | Arg::Str(_)
            ) {
                return Err(self.error(
                    cmd.pos,
                    format!("non executable command in pipeline stage {}", i + 1),
                ));
            }
        }
        Ok(pipe)
    }

    /// `$x :=`, `$x =`, and in `range`, `$i, $v :=`.
    fn declarations(&mut self, pipe: &mut Pipe, context: &str) -> Result<(), TemplateError> {
        loop {
            let start = self.pos;
            let Some(Tok::Variable(name)) = self.peek_non_space().map(|t| t.tok.clone()) else {
                return Ok(());
            };
            let var_pos = self.pos;
            self.pos += 1;
            match self.peek_non_space().map(|t| t.tok.clone()) {
                Some(Tok::Declare | Tok::Assign) => {
                    pipe.is_assign = self.next().is_some_and(|t| t.tok == Tok::Assign);
                    pipe.decl.push(name.to_string());
                    self.vars.push(name);
                    return Ok(());
                }
                Some(Tok::Comma) => {
                    self.pos += 1;
                    pipe.decl.push(name.to_string());
                    self.vars.push(name);
                    let next_is_var = matches!(
                        self.peek_non_space().map(|t| &t.tok),
                        Some(Tok::Variable(_))
                    );
                    if context == "range" && pipe.decl.len() < 2 && next_is_var {
                        continue;
                    }
                    let message = if context == "range" {
                        "range can only initialize variables".to_string()
                    } else {
                        format!("too many declarations in {context}")
                    };
                    return Err(self.error(self.tokens[var_pos].pos, message));
                }
                _ => {
                    self.pos = start;
                    return Ok(());
                }
            }
        }
    }

    fn command(&mut self) -> Result<Command, TemplateError> {
        let end = self.src.len();
        let pos = self.peek_non_space().map_or(end, |t| t.pos);
        let mut args = Vec::new();
        loop {
            self.skip_space();
            if let Some(operand) = self.operand()? {
                args.push(operand);
            }
            let token = self
                .next()
                .ok_or_else(|| self.error(self.src.len(), "unclosed action"))?;
            match token.tok {
                Tok::Space => continue,
                Tok::RightDelim | Tok::RightParen => self.pos -= 1,
                Tok::Pipe => {}
                _ => return Err(self.unexpected(&token, "operand")),
            }
            break;
        }
        if args.is_empty() {
            return Err(self.error(pos, "empty command"));
        }
        Ok(Command {
            pos,
            args: tight(args),
        })
    }

    fn operand(&mut self) -> Result<Option<Arg>, TemplateError> {
        let Some(term) = self.term()? else {
            return Ok(None);
        };
        let mut fields = Vec::new();
        while let Some(Tok::Field(name)) = self.peek().map(|t| &t.tok) {
            fields.push(self.name(name));
            self.pos += 1;
        }
        if fields.is_empty() {
            return Ok(Some(term));
        }
        let arg = match term {
            Arg::Field(mut base) => {
                base.extend(fields);
                Arg::Field(tight(base))
            }
            Arg::Variable(name, mut base) => {
                base.extend(fields);
                Arg::Variable(name, tight(base))
            }
            Arg::Bool(_) | Arg::Str(_) | Arg::Number(_) | Arg::Nil | Arg::Dot => {
                let pos = self.tokens[self.pos - 1].pos;
                return Err(self.error(
                    pos,
                    format!("unexpected . after term {:?}", term.to_string()),
                ));
            }
            term => Arg::Chain(Box::new(term), tight(fields)),
        };
        Ok(Some(arg))
    }

    fn term(&mut self) -> Result<Option<Arg>, TemplateError> {
        let token = self.next_non_space()?;
        let arg = match token.tok {
            Tok::Ident(name) => {
                if !(self.has_function)(name) {
                    return Err(self.error(token.pos, format!("function {name:?} not defined")));
                }
                Arg::Ident(self.name(name))
            }
            Tok::Dot => Arg::Dot,
            Tok::Keyword(Keyword::Nil) => Arg::Nil,
            Tok::Variable(name) => {
                if !self.vars.contains(&name) {
                    return Err(self.error(token.pos, format!("undefined variable {name:?}")));
                }
                Arg::Variable(self.name(name), Vec::new())
            }
            Tok::Field(name) => Arg::Field(vec![self.name(name)]),
            Tok::Bool(b) => Arg::Bool(b),
            Tok::Number(text) => Arg::Number(Box::new(parse_number(text).ok_or_else(|| {
                self.error(token.pos, format!("illegal number syntax: {text:?}"))
            })?)),
            Tok::Char(text) => Arg::Number(Box::new(parse_char(text).ok_or_else(|| {
                self.error(token.pos, format!("malformed character constant: {text}"))
            })?)),
            Tok::LeftParen => Arg::Pipe(Box::new(
                self.pipeline("parenthesized pipeline", Tok::RightParen)?,
            )),
            Tok::Str(s) => Arg::Str(s.into_owned()),
            _ => {
                self.pos -= 1;
                return Ok(None);
            }
        };
        Ok(Some(arg))
    }
}

enum Item {
    Node(Node),
    End(usize),
    Else(usize),
}

fn keyword_name(keyword: Keyword) -> &'static str {
    match keyword {
        Keyword::Break => "break",
        Keyword::Continue => "continue",
        _ => "keyword",
    }
}

fn describe(tok: &Tok) -> String {
    match tok {
        Tok::Text(_) => "text".into(),
        Tok::LeftDelim => "<{{>".into(),
        Tok::RightDelim => "<}}>".into(),
        Tok::Field(name) => format!("<.{name}>"),
        Tok::Dot => "<.>".into(),
        Tok::Variable(name) | Tok::Ident(name) | Tok::Number(name) | Tok::Char(name) => {
            format!("<{name}>")
        }
        Tok::Keyword(k) => format!("<{}>", format!("{k:?}").to_lowercase()),
        Tok::Bool(b) => format!("<{b}>"),
        Tok::Str(s) => format!("{s:?}"),
        Tok::Pipe => "<|>".into(),
        Tok::LeftParen => "<(>".into(),
        Tok::RightParen => "<)>".into(),
        Tok::Declare => "<:=>".into(),
        Tok::Assign => "<=>".into(),
        Tok::Comma => "<,>".into(),
        Tok::Space => "space".into(),
    }
}

/// A vector without room to grow: a chart's templates parse into hundreds of thousands of
/// small vectors, kept for the whole run, and spare room in each is memory the kernel
/// must still zero.
fn tight<T>(mut items: Vec<T>) -> Vec<T> {
    items.shrink_to_fit();
    items
}

/// Groups the parsed files' defines by name; a later definition replaces an earlier one,
/// except that an empty body never replaces a non-empty one (Go's `AddParseTree` rule).
pub fn add_define(set: &mut HashMap<String, List>, name: String, list: List) {
    let is_empty = list
        .iter()
        .all(|n| matches!(n, Node::Text(t) if t.trim().is_empty()));
    if is_empty && set.contains_key(&name) {
        return;
    }
    set.insert(name, list);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> Parsed {
        parse("t", src, &|name| name != "nope").unwrap()
    }

    fn err(src: &str) -> String {
        parse("t", src, &|name| name != "nope")
            .err()
            .unwrap()
            .to_string()
    }

    #[test]
    fn else_if_chains_share_one_end() {
        let parsed = ok("{{if .A}}a{{else if .B}}b{{else}}c{{end}}");
        let Node::If(branch) = &parsed.root[0] else {
            panic!()
        };
        let else_list = branch.else_list.as_ref().unwrap();
        assert!(matches!(else_list[0], Node::If(_)));
    }

    #[test]
    fn defines_are_collected() {
        let parsed = ok("{{define \"x\"}}X{{end}}body");
        assert_eq!(parsed.defines[0].0, "x");
        assert_eq!(parsed.root.len(), 1);
    }

    #[test]
    fn reports_go_parse_errors() {
        assert!(err("{{nope 1}}").contains("function \"nope\" not defined"));
        assert!(err("{{$x}}").contains("undefined variable \"$x\""));
        assert!(err("{{if .A}}").contains("unexpected EOF"));
        assert!(err("{{end}}").contains("unexpected {{end}}"));
    }
}
