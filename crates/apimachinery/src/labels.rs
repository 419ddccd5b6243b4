//! Label selectors as Kubernetes 1.32 parses, prints and matches them.
//!
//! The string grammar is upstream's (`k8s.io/apimachinery/pkg/labels`):
//!
//! ```text
//! selector    ::= requirement | requirement "," selector
//! requirement ::= ["!"] KEY [ set-based | exact | ordering ]
//! set-based   ::= ("in" | "notin") "(" VALUE { "," VALUE } ")"
//! exact       ::= ("=" | "==" | "!=") VALUE
//! ordering    ::= (">" | "<") INTEGER
//! ```
//!
//! A bare `KEY` means "exists", `!KEY` "does not exist", and the empty string selects
//! everything. Keys must be qualified names and values label values; errors carry upstream's
//! exact text, e.g. `unable to parse requirement: found '', expected: ',' or ')'` for
//! `a in (b`. Requirements are kept sorted by key, so [`Selector`]'s `Display` gives upstream's
//! canonical string.
//!
//! Upstream distinguishes a selector matching everything (an empty one) from one matching
//! nothing (`labels.Nothing()`, what a nil `LabelSelector` converts to); [`Selector::nothing`]
//! is the latter: it matches no object, is not empty, and prints as `""`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use crate::validation::{go_quote, go_string_slice, is_qualified_name, is_valid_label_value};

/// How a requirement relates a label's value to its values (upstream's `selection.Operator`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `!key`: the label is absent.
    DoesNotExist,
    /// `key=value`.
    Equals,
    /// `key==value`.
    DoubleEquals,
    /// `key in (a,b)`.
    In,
    /// `key!=value`: the label is absent or has another value.
    NotEquals,
    /// `key notin (a,b)`: the label is absent or has none of the values.
    NotIn,
    /// `key`: the label is present.
    Exists,
    /// `key>n`: the label is an integer greater than n.
    GreaterThan,
    /// `key<n`: the label is an integer less than n.
    LessThan,
}

impl Operator {
    /// Upstream's name of the operator (`!`, `=`, `==`, `in`, `!=`, `notin`, `exists`, `gt`,
    /// `lt`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operator::DoesNotExist => "!",
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::In => "in",
            Operator::NotEquals => "!=",
            Operator::NotIn => "notin",
            Operator::Exists => "exists",
            Operator::GreaterThan => "gt",
            Operator::LessThan => "lt",
        }
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The binary operators as upstream lists them in parse errors.
const BINARY_OPERATORS: &str = "in, notin, =, ==, !=, gt, lt";

/// One condition on one label key (upstream's `labels.Requirement`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: Vec<String>,
}

/// `path: Invalid value: <value>: detail`, as upstream's `field.Invalid(...).Error()`.
fn invalid_msg(path: &str, rendered_value: &str, detail: &str) -> String {
    format!("{path}: Invalid value: {rendered_value}: {detail}")
}

/// Upstream's `validateLabelKey`: the qualified-name problems joined by `; `.
fn key_error(key: &str, path: &str) -> Option<String> {
    let errs = is_qualified_name(key);
    if errs.is_empty() { None } else { Some(invalid_msg(path, &go_quote(key), &errs.join("; "))) }
}

/// Upstream's `ErrorList.ToAggregate().Error()`: duplicates dropped, one message as is, several
/// as `[a, b]`.
fn aggregate(errs: Vec<String>) -> Option<String> {
    let mut unique: Vec<String> = Vec::new();
    for e in errs {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    match unique.len() {
        0 => None,
        1 => unique.pop(),
        _ => Some(format!("[{}]", unique.join(", "))),
    }
}

impl Requirement {
    /// Builds a requirement, checking it as upstream's `NewRequirement` does: the key is a
    /// qualified name; `In`/`NotIn` need values; `=`, `==`, `!=` exactly one; `Exists` and
    /// `DoesNotExist` none; `>`/`<` exactly one integer; every value is a label value. The error
    /// is upstream's aggregated message (paths `key`, `values`, `values[i]`, `values[i][key]`;
    /// an empty value list prints as `[]string(nil)`).
    pub fn new(key: &str, operator: Operator, values: Vec<String>) -> Result<Requirement, String> {
        let mut errs = Vec::new();
        if let Some(e) = key_error(key, "key") {
            errs.push(e);
        }
        match operator {
            Operator::In | Operator::NotIn => {
                if values.is_empty() {
                    errs.push(invalid_msg(
                        "values",
                        &go_string_slice(&values),
                        "for 'in', 'notin' operators, values set can't be empty",
                    ));
                }
            }
            Operator::Equals | Operator::DoubleEquals | Operator::NotEquals => {
                if values.len() != 1 {
                    errs.push(invalid_msg(
                        "values",
                        &go_string_slice(&values),
                        "exact-match compatibility requires one single value",
                    ));
                }
            }
            Operator::Exists | Operator::DoesNotExist => {
                if !values.is_empty() {
                    errs.push(invalid_msg(
                        "values",
                        &go_string_slice(&values),
                        "values set must be empty for exists and does not exist",
                    ));
                }
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    errs.push(invalid_msg(
                        "values",
                        &go_string_slice(&values),
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, v) in values.iter().enumerate() {
                    if v.parse::<i64>().is_err() {
                        errs.push(invalid_msg(
                            &format!("values[{i}]"),
                            &go_quote(v),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
        }
        for (i, v) in values.iter().enumerate() {
            let problems = is_valid_label_value(v);
            if !problems.is_empty() {
                errs.push(invalid_msg(&format!("values[{i}][{key}]"), &go_quote(v), &problems.join("; ")));
            }
        }
        match aggregate(errs) {
            Some(e) => Err(e),
            None => Ok(Requirement { key: key.to_string(), operator, values }),
        }
    }

    /// The label key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The operator.
    pub fn operator(&self) -> Operator {
        self.operator
    }

    /// The values, in the order given (the parser gives them sorted and de-duplicated).
    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether a label set satisfies the requirement. `!=` and `notin` match when the label is
    /// absent; `>` and `<` need the label to be a decimal `i64`.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::In | Operator::Equals | Operator::DoubleEquals => {
                value.is_some_and(|v| self.values.contains(v))
            }
            Operator::NotIn | Operator::NotEquals => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let Some(Ok(have)) = value.map(|v| v.parse::<i64>()) else {
                    return false;
                };
                let [want] = self.values.as_slice() else {
                    return false;
                };
                let Ok(want) = want.parse::<i64>() else {
                    return false;
                };
                if self.operator == Operator::GreaterThan { have > want } else { have < want }
            }
        }
    }
}

impl fmt::Display for Requirement {
    /// Upstream's form: `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`,
    /// `k>n`, `k<n`; several values print sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.operator == Operator::DoesNotExist {
            f.write_str("!")?;
        }
        f.write_str(&self.key)?;
        let op = match self.operator {
            Operator::Equals => "=",
            Operator::DoubleEquals => "==",
            Operator::NotEquals => "!=",
            Operator::In => " in ",
            Operator::NotIn => " notin ",
            Operator::GreaterThan => ">",
            Operator::LessThan => "<",
            Operator::Exists | Operator::DoesNotExist => return Ok(()),
        };
        f.write_str(op)?;
        let set = matches!(self.operator, Operator::In | Operator::NotIn);
        if set {
            f.write_str("(")?;
        }
        if let [only] = self.values.as_slice() {
            f.write_str(only)?;
        } else {
            let mut sorted: Vec<&str> = self.values.iter().map(String::as_str).collect();
            sorted.sort_unstable();
            f.write_str(&sorted.join(","))?;
        }
        if set {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// A label selector: requirements that must all hold, or the "nothing" selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
    nothing: bool,
}

/// The selector that matches every label set (the empty selector).
pub fn everything() -> Selector {
    Selector::default()
}

/// The selector that matches no label set (what a nil `LabelSelector` converts to).
pub fn nothing() -> Selector {
    Selector { requirements: Vec::new(), nothing: true }
}

impl Selector {
    /// Parses a selector string with upstream's grammar and error texts (see the module docs).
    /// The empty string (or only whitespace) is the empty selector.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut parser = Parser { items: Lexer { s, pos: 0 }.scan(), pos: 0 };
        let mut requirements = parser.parse()?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(Selector { requirements, nothing: false })
    }

    /// The selector that matches everything.
    pub fn everything() -> Selector {
        everything()
    }

    /// The selector that matches nothing.
    pub fn nothing() -> Selector {
        nothing()
    }

    /// A selector requiring each label of the set to have exactly that value (upstream's
    /// `SelectorFromValidatedSet`: nothing is validated). An empty set gives the empty selector.
    pub fn from_set(labels: &BTreeMap<String, String>) -> Selector {
        let requirements = labels
            .iter()
            .map(|(k, v)| Requirement { key: k.clone(), operator: Operator::Equals, values: vec![v.clone()] })
            .collect();
        Selector { requirements, nothing: false }
    }

    /// Like [`Selector::from_set`] but each key and value is validated (upstream's
    /// `ValidatedSelectorFromSet`); the first bad pair's error is returned.
    pub fn validated_from_set(labels: &BTreeMap<String, String>) -> Result<Selector, String> {
        let mut requirements = Vec::with_capacity(labels.len());
        for (k, v) in labels {
            requirements.push(Requirement::new(k, Operator::Equals, vec![v.clone()])?);
        }
        Ok(Selector { requirements, nothing: false })
    }

    /// Whether the labels satisfy every requirement (always false for the nothing selector).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector places no restriction (no requirements and not "nothing").
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }

    /// Whether this is the selector that matches nothing.
    pub fn is_nothing(&self) -> bool {
        self.nothing
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// A copy with more requirements, re-sorted by key (the nothing selector stays nothing).
    pub fn add(&self, more: impl IntoIterator<Item = Requirement>) -> Selector {
        if self.nothing {
            return self.clone();
        }
        let mut requirements = self.requirements.clone();
        requirements.extend(more);
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Selector { requirements, nothing: false }
    }

    /// If the first requirement on `label` demands a single exact value (`=`, `==`, or `in`
    /// with one value), that value (upstream's `RequiresExactMatch`).
    pub fn requires_exact_match(&self, label: &str) -> Option<&str> {
        let r = self.requirements.iter().find(|r| r.key == label)?;
        match (r.operator, r.values.as_slice()) {
            (Operator::Equals | Operator::DoubleEquals | Operator::In, [only]) => Some(only),
            _ => None,
        }
    }
}

impl fmt::Display for Selector {
    /// Requirements joined by `,` in key order; the empty and the nothing selector print `""`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = String;
    fn from_str(s: &str) -> Result<Selector, String> {
        Selector::parse(s)
    }
}

/// Converts a `LabelSelector` as upstream's `LabelSelectorAsSelector`: no matchLabels and no
/// matchExpressions give the empty selector; matchLabels become `=` requirements (in key
/// order), matchExpressions `in`/`notin`/exists/`!`. An unknown operator gives
/// `"<op>" is not a valid label selector operator`; bad keys or values give
/// [`Requirement::new`]'s errors (the first failing requirement's).
pub fn from_label_selector(sel: &LabelSelector) -> Result<Selector, String> {
    let labels = sel.match_labels.as_ref();
    let exprs = sel.match_expressions.as_deref().unwrap_or(&[]);
    if labels.map_or(0, BTreeMap::len) + exprs.len() == 0 {
        return Ok(everything());
    }
    let mut requirements = Vec::new();
    for (k, v) in labels.into_iter().flatten() {
        requirements.push(Requirement::new(k, Operator::Equals, vec![v.clone()])?);
    }
    for expr in exprs {
        let op = match expr.operator.as_str() {
            "In" => Operator::In,
            "NotIn" => Operator::NotIn,
            "Exists" => Operator::Exists,
            "DoesNotExist" => Operator::DoesNotExist,
            other => return Err(format!("{} is not a valid label selector operator", go_quote(other))),
        };
        requirements.push(Requirement::new(&expr.key, op, expr.values.clone().unwrap_or_default())?);
    }
    Ok(everything().add(requirements))
}

/// [`from_label_selector`] for an optional field: `None` (a nil selector) selects nothing.
pub fn from_optional_label_selector(sel: Option<&LabelSelector>) -> Result<Selector, String> {
    match sel {
        None => Ok(nothing()),
        Some(s) => from_label_selector(s),
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer and parser
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Token {
    Error,
    EndOfString,
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier,
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

fn keyword(s: &str) -> Option<Token> {
    Some(match s {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "in" => Token::In,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "notin" => Token::NotIn,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

/// Byte-wise tokenizer. As upstream, a NUL byte reads like the end of input: it ends an
/// identifier, and where a token would start it ends the scan.
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl Lexer<'_> {
    fn read(&mut self) -> u8 {
        match self.s.as_bytes().get(self.pos) {
            Some(&b) => {
                self.pos += 1;
                b
            }
            None => 0,
        }
    }

    fn unread(&mut self) {
        self.pos = self.pos.saturating_sub(1);
    }

    fn slice(&self, start: usize, end: usize) -> String {
        match self.s.get(start..end) {
            Some(t) => t.to_string(),
            None => String::from_utf8_lossy(self.s.as_bytes().get(start..end).unwrap_or(&[])).into_owned(),
        }
    }

    fn scan_id_or_keyword(&mut self) -> (Token, String) {
        let start = self.pos;
        let end = loop {
            let before = self.pos;
            let ch = self.read();
            if ch == 0 {
                break before;
            }
            if is_special(ch) || is_whitespace(ch) {
                self.unread();
                break self.pos;
            }
        };
        let lit = self.slice(start, end);
        match keyword(&lit) {
            Some(tok) => (tok, lit),
            None => (Token::Identifier, lit),
        }
    }

    fn scan_special_symbol(&mut self) -> (Token, String) {
        let mut buffer = String::new();
        let mut last: Option<(Token, String)> = None;
        loop {
            let ch = self.read();
            if ch == 0 {
                break;
            }
            if is_special(ch) {
                buffer.push(char::from(ch));
                if let Some(tok) = keyword(&buffer) {
                    last = Some((tok, buffer.clone()));
                } else if last.is_some() {
                    self.unread();
                    break;
                }
            } else {
                self.unread();
                break;
            }
        }
        last.unwrap_or_else(|| (Token::Error, format!("error expected: keyword found '{buffer}'")))
    }

    fn lex(&mut self) -> (Token, String) {
        let mut ch = self.read();
        while is_whitespace(ch) {
            ch = self.read();
        }
        if ch == 0 {
            return (Token::EndOfString, String::new());
        }
        self.unread();
        if is_special(ch) { self.scan_special_symbol() } else { self.scan_id_or_keyword() }
    }

    fn scan(mut self) -> Vec<(Token, String)> {
        let mut items = Vec::new();
        loop {
            let item = self.lex();
            let end = item.0 == Token::EndOfString;
            items.push(item);
            if end {
                return items;
            }
        }
    }
}

/// Where the parser is: in a value position `in` and `notin` are plain identifiers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Ctx {
    KeyAndOperator,
    Values,
}

struct Parser {
    items: Vec<(Token, String)>,
    pos: usize,
}

impl Parser {
    fn at(&self, i: usize, ctx: Ctx) -> (Token, String) {
        let (tok, lit) = self
            .items
            .get(i)
            .or(self.items.last())
            .cloned()
            .unwrap_or((Token::EndOfString, String::new()));
        match (ctx, tok) {
            (Ctx::Values, Token::In | Token::NotIn) => (Token::Identifier, lit),
            _ => (tok, lit),
        }
    }

    fn lookahead(&self, ctx: Ctx) -> (Token, String) {
        self.at(self.pos, ctx)
    }

    fn consume(&mut self, ctx: Ctx) -> (Token, String) {
        let item = self.at(self.pos, ctx);
        self.pos += 1;
        item
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            let (tok, lit) = self.lookahead(Ctx::Values);
            match tok {
                Token::Identifier | Token::DoesNotExist => {
                    let r = self.parse_requirement().map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    let (t, l) = self.consume(Ctx::Values);
                    match t {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let (t2, l2) = self.lookahead(Ctx::Values);
                            if t2 != Token::Identifier && t2 != Token::DoesNotExist {
                                return Err(format!("found '{l2}', expected: identifier after ','"));
                            }
                        }
                        _ => return Err(format!("found '{l}', expected: ',' or 'end of string'")),
                    }
                }
                Token::EndOfString => return Ok(requirements),
                _ => return Err(format!("found '{lit}', expected: !, identifier, or 'end of string'")),
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<Requirement, String> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(op @ (Operator::Exists | Operator::DoesNotExist)) = inferred {
            return Requirement::new(&key, op, Vec::new());
        }
        let op = self.parse_operator()?;
        let values = match op {
            Operator::In | Operator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        Requirement::new(&key, op, values.into_iter().collect())
    }

    fn parse_key_and_infer_operator(&mut self) -> Result<(String, Option<Operator>), String> {
        let mut op = None;
        let (mut tok, mut lit) = self.consume(Ctx::Values);
        if tok == Token::DoesNotExist {
            op = Some(Operator::DoesNotExist);
            (tok, lit) = self.consume(Ctx::Values);
        }
        if tok != Token::Identifier {
            return Err(format!("found '{lit}', expected: identifier"));
        }
        // upstream validates the key here with a nil field path, which prints as "<nil>"
        if let Some(e) = key_error(&lit, "<nil>") {
            return Err(e);
        }
        let (next, _) = self.lookahead(Ctx::Values);
        if (next == Token::EndOfString || next == Token::Comma) && op != Some(Operator::DoesNotExist) {
            op = Some(Operator::Exists);
        }
        Ok((lit, op))
    }

    fn parse_operator(&mut self) -> Result<Operator, String> {
        let (tok, lit) = self.consume(Ctx::KeyAndOperator);
        Ok(match tok {
            Token::In => Operator::In,
            Token::Equals => Operator::Equals,
            Token::DoubleEquals => Operator::DoubleEquals,
            Token::GreaterThan => Operator::GreaterThan,
            Token::LessThan => Operator::LessThan,
            Token::NotIn => Operator::NotIn,
            Token::NotEquals => Operator::NotEquals,
            _ => return Err(format!("found '{lit}', expected: {BINARY_OPERATORS}")),
        })
    }

    fn parse_values(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, lit) = self.consume(Ctx::Values);
        if tok != Token::OpenPar {
            return Err(format!("found '{lit}' expected: '('"));
        }
        let (tok, lit) = self.lookahead(Ctx::Values);
        match tok {
            Token::Identifier | Token::Comma => {
                let set = self.parse_identifiers_list()?;
                let (close, _) = self.consume(Ctx::Values);
                if close != Token::ClosedPar {
                    return Err(format!("found '{lit}', expected: ')'"));
                }
                Ok(set)
            }
            Token::ClosedPar => {
                self.consume(Ctx::Values);
                Ok(BTreeSet::from([String::new()]))
            }
            _ => Err(format!("found '{lit}', expected: ',', ')' or identifier")),
        }
    }

    /// Comma-separated, possibly empty identifiers up to (not including) `)`. Kubernetes 1.32
    /// consumes the second comma of `,,`, so `(a,,)` and `(,,)` are errors there.
    fn parse_identifiers_list(&mut self) -> Result<BTreeSet<String>, String> {
        let mut set = BTreeSet::new();
        loop {
            let (tok, lit) = self.consume(Ctx::Values);
            match tok {
                Token::Identifier => {
                    set.insert(lit);
                    let (t2, l2) = self.lookahead(Ctx::Values);
                    match t2 {
                        Token::Comma => continue,
                        Token::ClosedPar => return Ok(set),
                        _ => return Err(format!("found '{l2}', expected: ',' or ')'")),
                    }
                }
                Token::Comma => {
                    if set.is_empty() {
                        set.insert(String::new());
                    }
                    let (t2, _) = self.lookahead(Ctx::Values);
                    if t2 == Token::ClosedPar {
                        set.insert(String::new());
                        return Ok(set);
                    }
                    if t2 == Token::Comma {
                        self.consume(Ctx::Values);
                        set.insert(String::new());
                    }
                }
                _ => return Err(format!("found '{lit}', expected: ',', or identifier")),
            }
        }
    }

    fn parse_exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        let (tok, _) = self.lookahead(Ctx::Values);
        if tok == Token::EndOfString || tok == Token::Comma {
            return Ok(BTreeSet::from([String::new()]));
        }
        let (tok, lit) = self.consume(Ctx::Values);
        if tok == Token::Identifier {
            Ok(BTreeSet::from([lit]))
        } else {
            Err(format!("found '{lit}', expected: identifier"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    const NAME_PART_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    fn set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn strs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn tokens(s: &str) -> Vec<Token> {
        Lexer { s, pos: 0 }.scan().into_iter().map(|(t, _)| t).collect()
    }

    #[test]
    fn lexer_sequences() {
        use Token::*;
        let cases: &[(&str, &[Token])] = &[
            ("", &[EndOfString]),
            ("key in ( value )", &[Identifier, In, OpenPar, Identifier, ClosedPar, EndOfString]),
            ("key notin ( value1, value2 )", &[Identifier, NotIn, OpenPar, Identifier, Comma, Identifier, ClosedPar, EndOfString]),
            ("!key", &[DoesNotExist, Identifier, EndOfString]),
            ("== != (), = notin", &[DoubleEquals, NotEquals, OpenPar, ClosedPar, Comma, Equals, NotIn, EndOfString]),
            ("key>2", &[Identifier, GreaterThan, Identifier, EndOfString]),
            ("key<1", &[Identifier, LessThan, Identifier, EndOfString]),
            ("a!==b", &[Identifier, NotEquals, Equals, Identifier, EndOfString]),
            ("a=!b", &[Identifier, Equals, DoesNotExist, Identifier, EndOfString]),
            ("!!", &[DoesNotExist, DoesNotExist, EndOfString]),
            ("x>=1", &[Identifier, GreaterThan, Equals, Identifier, EndOfString]),
            ("\r\n\tx", &[Identifier, EndOfString]),
            // NUL ends an identifier but the scan goes on after it ...
            ("a\0b", &[Identifier, Identifier, EndOfString]),
            // ... while a NUL where a token would start ends the scan
            ("a \0b", &[Identifier, EndOfString]),
        ];
        for (s, want) in cases {
            assert_eq!(tokens(s), want.to_vec(), "{s:?}");
        }
        let lits: Vec<String> = Lexer { s: "ké=välue", pos: 0 }.scan().into_iter().map(|(_, l)| l).collect();
        assert_eq!(lits, strs(&["ké", "=", "välue", ""]));
    }

    #[test]
    fn parse_and_restring() {
        // (input, canonical form)
        let cases = [
            ("", ""),
            ("   ", ""),
            ("x=a,y=b,z=c", "x=a,y=b,z=c"),
            ("x!=a,y=b", "x!=a,y=b"),
            ("x=", "x="),
            ("x= ", "x="),
            ("x=,z= ", "x=,z="),
            ("!x", "!x"),
            ("x>1", "x>1"),
            ("x>1,z<5", "x>1,z<5"),
            ("x==a", "x==a"),
            ("z=c,a=x", "a=x,z=c"),
            ("\rx", "x"),
            ("this-is-a-dns.domain.com/key-with-dash", "this-is-a-dns.domain.com/key-with-dash"),
            ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)", "0.1.2.domain/99 notin (10.10.100.1,tick.tack.clock)"),
            ("foo  in\t (abc)", "foo in (abc)"),
            ("x notin\n (abc)", "x notin (abc)"),
            ("x in (def,abc,def)", "x in (abc,def)"),
            ("x in (abc,)", "x in (,abc)"),
            ("x in ()", "x in ()"),
            ("x notin ( )", "x notin ()"),
            ("x notin (, a)", "x notin (,a)"),
            ("x notin (abc,,def),bar,z in (),w", "bar,w,x notin (,abc,def),z in ()"),
            ("x in (,,a)", "x in (,a)"),
            ("a in (x,y,notin, z,in)", "a in (in,notin,x,y,z)"),
            ("notin=in", "notin=in"),
            ("in in (in)", "in in (in)"),
            ("!in", "!in"),
            ("a ", "a"),
            ("a,a=b,a!=c", "a,a=b,a!=c"),
            ("x=a\0,junk", "junk,x=a"),
            ("x=a \0,junk", "x=a"),
        ];
        for (input, want) in cases {
            let sel = Selector::parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(sel.to_string(), want, "{input:?}");
            // the canonical form parses back to the same selector
            assert_eq!(Selector::parse(&sel.to_string()).map(|s| s.to_string()), Ok(want.to_string()));
        }
        assert!(Selector::parse("").is_ok_and(|s| s.is_empty()));
        assert_eq!("a=b".parse::<Selector>().map(|s| s.requirements().len()), Ok(1));
    }

    #[test]
    fn parse_errors_have_upstream_text() {
        let bin = "in, notin, =, ==, !=, gt, lt";
        let cases: Vec<(&str, String)> = vec![
            ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'".into()),
            ("x==a==b", "found '==', expected: ',' or 'end of string'".into()),
            ("!x=a", "found '=', expected: ',' or 'end of string'".into()),
            ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("x>", "unable to parse requirement: values[0]: Invalid value: \"\": for 'Gt', 'Lt' operators, the value must be an integer".into()),
            ("x,,y", "found ',', expected: identifier after ','".into()),
            (",x,y", "found ',', expected: !, identifier, or 'end of string'".into()),
            ("x nott in (y)", format!("unable to parse requirement: found 'nott', expected: {bin}")),
            ("a in (xyz),", "found '', expected: identifier after ','".into()),
            ("a in (xyz)b notin ()", "found 'b', expected: ',' or 'end of string'".into()),
            ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'".into()),
            ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier".into()),
            ("a (", format!("unable to parse requirement: found '(', expected: {bin}")),
            ("(", "found '(', expected: !, identifier, or 'end of string'".into()),
            ("!", "unable to parse requirement: found '', expected: identifier".into()),
            ("!!a", "unable to parse requirement: found '!', expected: identifier".into()),
            ("a in b", "unable to parse requirement: found 'b' expected: '('".into()),
            ("a in (b,=)", "unable to parse requirement: found '=', expected: ',', or identifier".into()),
            ("a in (b,,)", "unable to parse requirement: found ')', expected: ',', or identifier".into()),
            ("a in (,,)", "unable to parse requirement: found ')', expected: ',', or identifier".into()),
            ("a=(b)", "unable to parse requirement: found '(', expected: identifier".into()),
            ("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier".into()),
            ("a exists", format!("unable to parse requirement: found 'exists', expected: {bin}")),
            ("a=b c", "found 'c', expected: ',' or 'end of string'".into()),
        ];
        for (input, want) in &cases {
            assert_eq!(Selector::parse(input), Err(want.clone()), "{input:?}");
        }
        // `|` is no operator: `a||y` is one (invalid) value
        assert_eq!(
            Selector::parse("x=a||y=b"),
            Err(format!("unable to parse requirement: values[0][x]: Invalid value: \"a||y\": {LABEL_VALUE_MSG}"))
        );
    }

    #[test]
    fn parse_validates_keys_and_values() {
        assert_eq!(
            Selector::parse("k@y=v"),
            Err(format!("unable to parse requirement: <nil>: Invalid value: \"k@y\": {NAME_PART_MSG}"))
        );
        assert_eq!(
            Selector::parse("Example.com/a=v"),
            Err("unable to parse requirement: <nil>: Invalid value: \"Example.com/a\": prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')".to_string())
        );
        assert_eq!(
            Selector::parse("/a"),
            Err("unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty".to_string())
        );
        assert_eq!(
            Selector::parse("a/"),
            Err(format!("unable to parse requirement: <nil>: Invalid value: \"a/\": name part must be non-empty; {NAME_PART_MSG}"))
        );
        assert_eq!(
            Selector::parse("app=b@d"),
            Err(format!("unable to parse requirement: values[0][app]: Invalid value: \"b@d\": {LABEL_VALUE_MSG}"))
        );
        // values are sorted before they are checked, so the index is the sorted position
        assert_eq!(
            Selector::parse("app in (zz, b@d)"),
            Err(format!("unable to parse requirement: values[0][app]: Invalid value: \"b@d\": {LABEL_VALUE_MSG}"))
        );
        let long = "a".repeat(64);
        assert_eq!(
            Selector::parse(&format!("app={long}")),
            Err(format!("unable to parse requirement: values[0][app]: Invalid value: \"{long}\": must be no more than 63 characters"))
        );
        assert_eq!(
            Selector::parse("x>-1"),
            Err(format!("unable to parse requirement: values[0][x]: Invalid value: \"-1\": {LABEL_VALUE_MSG}"))
        );
        assert_eq!(
            Selector::parse("x>a_"),
            Err(format!(
                "unable to parse requirement: [values[0]: Invalid value: \"a_\": for 'Gt', 'Lt' operators, the value must be an integer, values[0][x]: Invalid value: \"a_\": {LABEL_VALUE_MSG}]"
            ))
        );
        assert_eq!(
            Selector::parse("k=\u{1}"),
            Err(format!("unable to parse requirement: values[0][k]: Invalid value: \"\\x01\": {LABEL_VALUE_MSG}"))
        );
    }

    /// (selector, labels, expected match)
    type MatchCase<'a> = (&'a str, &'a [(&'a str, &'a str)], bool);

    #[test]
    fn matching() {
        let cases: &[MatchCase<'_>] = &[
            ("", &[("x", "y")], true),
            ("x=y", &[("x", "y")], true),
            ("x=y,z=w", &[("x", "y"), ("z", "w")], true),
            ("x!=y,z!=w", &[("x", "z"), ("z", "a")], true),
            ("notin=in", &[("notin", "in")], true),
            ("x", &[("x", "z")], true),
            ("!x", &[("y", "z")], true),
            ("x>1", &[("x", "2")], true),
            ("x<1", &[("x", "0")], true),
            ("x<1", &[("x", "-5")], true),
            ("x>1", &[("x", "+2")], true),
            ("x=z", &[], false),
            ("x=y", &[("x", "z")], false),
            ("x=y,z=w", &[("x", "w"), ("z", "w")], false),
            ("x!=y,z!=w", &[("x", "z"), ("z", "w")], false),
            ("x!=y", &[], true),
            ("x", &[("y", "z")], false),
            ("!x", &[("x", "z")], false),
            ("x>1", &[("x", "0")], false),
            ("x<1", &[("x", "2")], false),
            ("x>1", &[("x", "v2")], false),
            ("x>1", &[], false),
            ("x in (a,b)", &[("x", "b")], true),
            ("x in (a,b)", &[("x", "c")], false),
            ("x in ()", &[("x", "")], true),
            ("x in (a)", &[], false),
            ("x notin (a,b)", &[("x", "c")], true),
            ("x notin (a,b)", &[("x", "a")], false),
            ("x notin (a)", &[], true),
            ("x notin ()", &[("y", "")], true),
            ("x=", &[("x", "")], true),
            ("x=", &[], false),
        ];
        for (sel, labels, want) in cases {
            let s = Selector::parse(sel).unwrap_or_else(|e| panic!("{sel}: {e}"));
            assert_eq!(s.matches(&set(labels)), *want, "{sel} against {labels:?}");
        }
    }

    #[test]
    fn everything_and_nothing() {
        let all = everything();
        assert!(all.is_empty());
        assert!(!all.is_nothing());
        assert!(all.matches(&set(&[("a", "b")])));
        assert_eq!(all.to_string(), "");
        let none = nothing();
        assert!(!none.is_empty());
        assert!(none.is_nothing());
        assert!(!none.matches(&set(&[])));
        assert_eq!(none.to_string(), "");
        assert!(none.add([Requirement::new("a", Operator::Exists, vec![]).unwrap_or_else(|e| panic!("{e}"))]).is_nothing());
        assert_eq!(from_optional_label_selector(None), Ok(nothing()));
        assert_eq!(from_optional_label_selector(Some(&LabelSelector::default())), Ok(everything()));
    }

    #[test]
    fn requirement_constructor_errors() {
        assert_eq!(
            Requirement::new("x", Operator::In, vec![]),
            Err("values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".into())
        );
        assert_eq!(
            Requirement::new("x", Operator::Equals, strs(&["a", "b"])),
            Err("values: Invalid value: []string{\"a\", \"b\"}: exact-match compatibility requires one single value".into())
        );
        assert_eq!(
            Requirement::new("x", Operator::Exists, strs(&["a"])),
            Err("values: Invalid value: []string{\"a\"}: values set must be empty for exists and does not exist".into())
        );
        assert_eq!(
            Requirement::new("x", Operator::GreaterThan, strs(&["1", "2"])),
            Err("values: Invalid value: []string{\"1\", \"2\"}: for 'Gt', 'Lt' operators, exactly one value is required".into())
        );
        assert_eq!(
            Requirement::new("", Operator::Exists, vec![]),
            Err(format!("key: Invalid value: \"\": name part must be non-empty; {NAME_PART_MSG}"))
        );
        assert_eq!(
            Requirement::new("a b", Operator::NotIn, strs(&["ok", "b d"])),
            Err(format!(
                "[key: Invalid value: \"a b\": {NAME_PART_MSG}, values[1][a b]: Invalid value: \"b d\": {LABEL_VALUE_MSG}]"
            ))
        );
        let r = Requirement::new("x", Operator::In, strs(&["b", "a", "b"])).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(r.values(), strs(&["b", "a", "b"]).as_slice());
        assert_eq!(r.to_string(), "x in (a,b,b)");
        assert_eq!(r.key(), "x");
        assert_eq!(r.operator(), Operator::In);
        assert_eq!(Operator::GreaterThan.to_string(), "gt");
    }

    fn expr(key: &str, op: &str, values: Option<&[&str]>) -> LabelSelectorRequirement {
        LabelSelectorRequirement { key: key.into(), operator: op.into(), values: values.map(strs) }
    }

    #[test]
    fn from_label_selectors() {
        let sel = LabelSelector {
            match_labels: Some(set(&[("z", "1"), ("app", "web")])),
            match_expressions: Some(vec![
                expr("tier", "In", Some(&["b", "a"])),
                expr("env", "NotIn", Some(&["prod"])),
                expr("gpu", "Exists", None),
                expr("legacy", "DoesNotExist", Some(&[])),
            ]),
        };
        let s = from_label_selector(&sel).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.to_string(), "app=web,env notin (prod),gpu,!legacy,tier in (a,b),z=1");
        assert!(s.matches(&set(&[("app", "web"), ("z", "1"), ("tier", "a"), ("gpu", "")])));
        assert!(!s.matches(&set(&[("app", "web"), ("z", "1"), ("tier", "a"), ("gpu", ""), ("legacy", "")])));
        assert_eq!(s.requires_exact_match("app"), Some("web"));

        let bad_op = LabelSelector { match_expressions: Some(vec![expr("a", "Equals", Some(&["b"]))]), ..Default::default() };
        assert_eq!(from_label_selector(&bad_op), Err("\"Equals\" is not a valid label selector operator".into()));
        let empty_in = LabelSelector { match_expressions: Some(vec![expr("a", "In", None)]), ..Default::default() };
        assert_eq!(
            from_label_selector(&empty_in),
            Err("values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty".into())
        );
        let exists_vals = LabelSelector { match_expressions: Some(vec![expr("a", "Exists", Some(&["x"]))]), ..Default::default() };
        assert_eq!(
            from_label_selector(&exists_vals),
            Err("values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist".into())
        );
        let bad_label = LabelSelector { match_labels: Some(set(&[("a", "b c")])), ..Default::default() };
        assert_eq!(
            from_label_selector(&bad_label),
            Err(format!("values[0][a]: Invalid value: \"b c\": {LABEL_VALUE_MSG}"))
        );
    }

    #[test]
    fn exact_match_and_sets() {
        let s = Selector::parse("a=1,b in (2),c in (3,4),d!=5,e==6").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.requires_exact_match("a"), Some("1"));
        assert_eq!(s.requires_exact_match("b"), Some("2"));
        assert_eq!(s.requires_exact_match("c"), None);
        assert_eq!(s.requires_exact_match("d"), None);
        assert_eq!(s.requires_exact_match("e"), Some("6"));
        assert_eq!(s.requires_exact_match("f"), None);
        // the first requirement on a key decides
        let s = Selector::parse("a!=1,a=2").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.requires_exact_match("a"), None);

        let labels = set(&[("b", "2"), ("a", "1")]);
        let s = Selector::from_set(&labels);
        assert_eq!(s.to_string(), "a=1,b=2");
        assert!(s.matches(&labels));
        assert!(!s.matches(&set(&[("a", "1")])));
        assert!(Selector::from_set(&BTreeMap::new()).is_empty());
        assert_eq!(Selector::validated_from_set(&labels).map(|s| s.to_string()), Ok("a=1,b=2".into()));
        assert!(Selector::validated_from_set(&set(&[("a", "-")])).is_err());

        let added = s.add([Requirement::new("0", Operator::Exists, vec![]).unwrap_or_else(|e| panic!("{e}"))]);
        assert_eq!(added.to_string(), "0,a=1,b=2");
    }

    #[test]
    fn no_panics_on_odd_input() {
        for input in ["\0", "!\0", "a in (\0", "(((", ")))", "!=!=", "é in (ü", "a=\u{ffff}", "<>", "a<<b", "in", "notin", "in in", ",", "a in (,"] {
            let _ = Selector::parse(input);
        }
        assert_eq!(Selector::parse("in").map(|s| s.to_string()), Ok("in".to_string()));
        assert_eq!(Selector::parse("\0").map(|s| s.is_empty()), Ok(true));
    }
}
