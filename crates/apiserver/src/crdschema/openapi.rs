//! OpenAPI value validation of custom resources as upstream runs it (kube-openapi's
//! `validate.SchemaValidator` behind apiextensions' `ValidateCustomResource`): the same
//! validators in the same order, the same messages (`spec.x in body must be of type
//! integer: "string"`), the same `anyOf`/`oneOf` best-failure choice (by match count), the
//! same mapping to field errors, and CRD validation ratcheting on updates (errors of a
//! correlated node equal to its old value are dropped).

use apimachinery::field::{ErrorKind, FieldError};
use serde_json::Value;

use super::formats;
use super::gofmt::{Num, field_value, go_float, go_json, go_quote, num};
use super::schema::{AdditionalProperties, Schema};

/// How the schema was turned into a kube-openapi schema.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Custom resources (`ConvertJSONSchemaProps` + `StripUnsupportedFormatsPostProcess`):
    /// int-or-string nodes get the types `integer,string`; formats outside the supported
    /// list are dropped.
    CustomResource,
    /// Default values (`Structural.ToKubeOpenAPI`): no type for int-or-string nodes, formats
    /// kept as written.
    Default,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Code {
    InvalidType,
    Required,
    TooLong,
    TooShort,
    Pattern,
    Enum,
    MultipleOf,
    Max,
    Min,
    Unique,
    MaxItems,
    MinItems,
    TooFewProperties,
    TooManyProperties,
    Unallowed,
    MultipleOfMustBePositive,
    /// An `errors.New(CompositeErrorCode, ...)` (anyOf/oneOf/allOf/not messages).
    Composite,
}

#[derive(Clone, Debug)]
struct OErr {
    code: Code,
    name: String,
    value: Option<Value>,
    valid: Option<i64>,
    values: Vec<Value>,
    message: String,
}

impl OErr {
    fn new(code: Code, name: &str, value: Option<Value>, message: String) -> Self {
        OErr {
            code,
            name: name.to_string(),
            value,
            valid: None,
            values: Vec::new(),
            message,
        }
    }
}

#[derive(Clone, Debug, Default)]
struct VResult {
    errors: Vec<OErr>,
    warnings: Vec<OErr>,
    matches: i64,
}

impl VResult {
    fn err(e: OErr) -> Self {
        VResult {
            errors: vec![e],
            warnings: Vec::new(),
            matches: 0,
        }
    }
    fn add_errors(&mut self, errs: impl IntoIterator<Item = OErr>) {
        for e in errs {
            if !self.errors.iter().any(|x| x.message == e.message) {
                self.errors.push(e);
            }
        }
    }
    fn add_warnings(&mut self, errs: impl IntoIterator<Item = OErr>) {
        for e in errs {
            if !self.warnings.iter().any(|x| x.message == e.message) {
                self.warnings.push(e);
            }
        }
    }
    fn merge(&mut self, other: VResult) {
        self.add_errors(other.errors);
        self.add_warnings(other.warnings);
        self.matches += other.matches;
    }
    fn merge_opt(&mut self, other: Option<VResult>) {
        if let Some(o) = other {
            self.merge(o);
        }
    }
    fn is_valid(&self) -> bool {
        self.errors.is_empty()
    }
    fn inc(&mut self) {
        self.matches += 1;
    }
}

/// The JSON kind of a decoded value, as Go's reflection sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Bool,
    Int(i64),
    Float(f64),
    Str,
    Slice,
    Map,
}

fn kind(v: &Value) -> Option<Kind> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(_) => Kind::Bool,
        Value::Number(_) => match num(v)? {
            Num::Int(i) => Kind::Int(i),
            Num::Float(f) => Kind::Float(f),
        },
        Value::String(_) => Kind::Str,
        Value::Array(_) => Kind::Slice,
        Value::Object(_) => Kind::Map,
    })
}

/// go-openapi's `IsFloat64AJSONInteger` (swag v0.23).
pub(crate) fn is_float64_a_json_integer(f: f64) -> bool {
    const MAX: f64 = 9007199254740991.0;
    if f.is_nan() || f.is_infinite() || !(-MAX..=MAX).contains(&f) {
        return false;
    }
    let fa = f.abs();
    // Go's float64(uint64(f)) for a negative f is implementation-defined; on amd64 it is a
    // huge value, so the relative-error check fails
    let g = if f >= 0.0 { f.trunc() } else { f64::MAX };
    let ga = g.abs();
    let diff = (f - g).abs();
    if f == g || f == f.trunc() {
        return true;
    }
    if f == 0.0 || g == 0.0 || diff < f64::from_bits(1) {
        return diff < 1e-9 * f64::from_bits(1);
    }
    diff / (fa + ga).min(f64::MAX) < 1e-9
}

/// The validator over one converted schema.
pub(crate) struct Validator<'a> {
    pub(crate) mode: Mode,
    pub(crate) root: &'a Schema,
}

const IN: &str = "body";

impl<'a> Validator<'a> {
    fn types(&self, s: &Schema) -> Vec<&'static str> {
        if self.mode == Mode::CustomResource && s.x_int_or_string {
            return vec!["integer", "string"];
        }
        match s.type_.as_str() {
            "" => vec![],
            "object" => vec!["object"],
            "array" => vec!["array"],
            "string" => vec!["string"],
            "integer" => vec!["integer"],
            "number" => vec!["number"],
            "boolean" => vec!["boolean"],
            "null" => vec!["null"],
            _ => vec!["<other>"],
        }
    }

    fn type_string(&self, s: &Schema) -> String {
        if self.mode == Mode::CustomResource && s.x_int_or_string {
            return "integer,string".into();
        }
        s.type_.clone()
    }

    fn format<'s>(&self, s: &'s Schema) -> &'s str {
        if self.mode == Mode::CustomResource && !formats::supported_for_crds(&s.format) {
            return "";
        }
        &s.format
    }

    /// `SchemaValidator.Validate` wrapped by the ratcheting validator when `old` correlates.
    fn validate_node(&self, s: &Schema, path: &str, data: &Value, old: Option<&Value>) -> VResult {
        let res = self.validate_schema(s, path, data, old);
        if res.is_valid() {
            return res;
        }
        if let Some(o) = old
            && correlated_equal(o, data, s)
        {
            let mut r = VResult {
                matches: res.matches,
                ..Default::default()
            };
            r.add_warnings(res.errors);
            r.add_warnings(res.warnings);
            return r;
        }
        res
    }

    fn validate_schema(
        &self,
        s: &Schema,
        path: &str,
        data: &Value,
        old: Option<&Value>,
    ) -> VResult {
        let mut result = VResult::default();
        let Some(k) = kind(data) else {
            result.merge(self.type_validate(s, path, data, None));
            result.merge_opt(self.common_validate(s, path, data));
            return result;
        };
        let tv_applies = !self.types(s).is_empty() || !self.format(s).is_empty();
        if tv_applies {
            result.merge(self.type_validate(s, path, data, Some(k)));
            result.inc();
        }
        result.merge(self.props_validate(s, path, data, old));
        result.inc();
        if k == Kind::Str {
            result.merge_opt(self.string_validate(s, path, data));
            result.inc();
            let f = self.format(s);
            if formats::known(f) {
                result.merge_opt(self.format_validate(f, path, data));
                result.inc();
            }
        }
        if matches!(k, Kind::Int(_) | Kind::Float(_)) {
            result.merge(self.number_validate(s, path, k));
            result.inc();
        }
        if k == Kind::Slice {
            result.merge(self.slice_validate(s, path, data, old));
            result.inc();
        }
        result.merge_opt(self.common_validate(s, path, data));
        result.inc();
        if k == Kind::Map {
            result.merge(self.object_validate(s, path, data, old));
            result.inc();
        }
        result.inc();
        result
    }

    // the conditions mirror kube-openapi's typeValidator
    #[allow(clippy::nonminimal_bool)]
    fn type_validate(&self, s: &Schema, path: &str, data: &Value, k: Option<Kind>) -> VResult {
        let types = self.types(s);
        let t_format = self.format(s);
        let ok = VResult {
            matches: 1,
            ..Default::default()
        };
        let Some(k) = k else {
            if !types.is_empty() && !types.contains(&"null") && !s.nullable {
                return VResult::err(invalid_type(path, &self.type_string(s), "null"));
            }
            return ok;
        };
        let (sch_type, format) = match k {
            Kind::Bool => ("boolean", ""),
            Kind::Str => ("string", ""),
            Kind::Int(_) => ("integer", "int64"),
            Kind::Float(_) => ("number", "float64"),
            Kind::Slice => ("array", ""),
            Kind::Map => ("object", ""),
        };
        let contains = |t: &str| types.contains(&t);
        let is_float_int =
            matches!(k, Kind::Float(f) if is_float64_a_json_integer(f)) && contains("integer");
        let is_int_float = sch_type == "integer" && contains("number");
        let is_str_or_slice = matches!(k, Kind::Str | Kind::Slice);
        if !is_str_or_slice
            && !t_format.is_empty()
            && !(contains(sch_type) || format == t_format || is_float_int || is_int_float)
        {
            return VResult::err(invalid_type(path, t_format, format));
        }
        if !(contains("number") || contains("integer")) && !t_format.is_empty() && is_str_or_slice {
            return ok;
        }
        if !(contains(sch_type) || is_float_int || is_int_float) {
            return VResult::err(invalid_type(path, &self.type_string(s), sch_type));
        }
        let _ = data;
        ok
    }

    fn common_validate(&self, s: &Schema, path: &str, data: &Value) -> Option<VResult> {
        if s.enum_.is_empty() {
            return None;
        }
        if s.enum_.iter().any(|e| enum_matches(data, e)) {
            return None;
        }
        let msg = format!("{path} in {IN} should be one of {}", go_slice_v(&s.enum_));
        let mut e = OErr::new(
            Code::Enum,
            path,
            if data.is_null() {
                None
            } else {
                Some(data.clone())
            },
            msg,
        );
        e.values = s.enum_.clone();
        Some(VResult::err(e))
    }

    fn string_validate(&self, s: &Schema, path: &str, data: &Value) -> Option<VResult> {
        let st = data.as_str()?;
        let len = st.chars().count() as i64;
        if let Some(max) = s.max_length
            && len > max
        {
            let mut e = OErr::new(
                Code::TooLong,
                path,
                Some(data.clone()),
                format!("{path} in {IN} should be at most {max} chars long"),
            );
            e.valid = Some(max);
            return Some(VResult::err(e));
        }
        if let Some(min) = s.min_length
            && len < min
        {
            let mut e = OErr::new(
                Code::TooShort,
                path,
                Some(data.clone()),
                format!("{path} in {IN} should be at least {min} chars long"),
            );
            e.valid = Some(min);
            return Some(VResult::err(e));
        }
        if !s.pattern.is_empty() {
            match compile_pattern(&s.pattern) {
                Err(err) => {
                    let p = format!("{}, but pattern is invalid: {}", s.pattern, err);
                    return Some(VResult::err(OErr::new(
                        Code::Pattern,
                        path,
                        Some(data.clone()),
                        format!("{path} in {IN} should match '{p}'"),
                    )));
                }
                Ok(re) => {
                    if !re.is_match(st) {
                        return Some(VResult::err(OErr::new(
                            Code::Pattern,
                            path,
                            Some(data.clone()),
                            format!("{path} in {IN} should match '{}'", s.pattern),
                        )));
                    }
                }
            }
        }
        None
    }

    fn format_validate(&self, f: &str, path: &str, data: &Value) -> Option<VResult> {
        let st = data.as_str()?;
        if formats::validates(f, st) {
            return None;
        }
        Some(VResult::err(invalid_type_value(path, f, data.clone(), st)))
    }

    fn number_validate(&self, s: &Schema, path: &str, k: Kind) -> VResult {
        let mut res = VResult::default();
        let (val, as_f) = match k {
            Kind::Int(i) => (Value::from(i), i as f64),
            Kind::Float(f) => (Value::from(f), f),
            _ => return res,
        };
        let mut errs = Vec::new();
        if let Some(factor) = s.multiple_of {
            match k {
                Kind::Int(i) => {
                    let fi = factor as i64;
                    if fi <= 0 {
                        errs.push(OErr::new(
                            Code::MultipleOfMustBePositive,
                            path,
                            Some(Value::from(fi)),
                            format!("factor MultipleOf declared for {path} must be positive: {fi}"),
                        ));
                    } else if i.wrapping_div(fi).wrapping_mul(fi) != i {
                        errs.push(OErr::new(
                            Code::MultipleOf,
                            path,
                            Some(val.clone()),
                            format!("{path} in {IN} should be a multiple of {fi}"),
                        ));
                    }
                }
                _ => {
                    if factor <= 0.0 {
                        errs.push(OErr::new(
                            Code::MultipleOfMustBePositive,
                            path,
                            Some(Value::from(factor)),
                            format!(
                                "factor MultipleOf declared for {path} must be positive: {}",
                                go_float(factor)
                            ),
                        ));
                    } else {
                        let mult = if factor < 1.0 {
                            1.0 / factor * as_f
                        } else {
                            as_f / factor
                        };
                        if !is_float64_a_json_integer(mult) {
                            errs.push(OErr::new(
                                Code::MultipleOf,
                                path,
                                Some(val.clone()),
                                format!(
                                    "{path} in {IN} should be a multiple of {}",
                                    go_float(factor)
                                ),
                            ));
                        }
                    }
                }
            }
        }
        let mut min_errs = Vec::new();
        let mut max_errs = Vec::new();
        if let Some(max) = s.maximum {
            let excl = s.exclusive_maximum;
            let (fail, shown) = match k {
                Kind::Int(i) => {
                    let m = max as i64;
                    ((!excl && i > m) || (excl && i >= m), m.to_string())
                }
                _ => (
                    (!excl && as_f > max) || (excl && as_f >= max),
                    go_float(max),
                ),
            };
            if fail {
                let m = if excl {
                    "should be less than"
                } else {
                    "should be less than or equal to"
                };
                max_errs.push(OErr::new(
                    Code::Max,
                    path,
                    Some(val.clone()),
                    format!("{path} in {IN} {m} {shown}"),
                ));
            }
        }
        if let Some(min) = s.minimum {
            let excl = s.exclusive_minimum;
            let (fail, shown) = match k {
                Kind::Int(i) => {
                    let m = min as i64;
                    ((!excl && i < m) || (excl && i <= m), m.to_string())
                }
                _ => (
                    (!excl && as_f < min) || (excl && as_f <= min),
                    go_float(min),
                ),
            };
            if fail {
                let m = if excl {
                    "should be greater than"
                } else {
                    "should be greater than or equal to"
                };
                min_errs.push(OErr::new(
                    Code::Min,
                    path,
                    Some(val.clone()),
                    format!("{path} in {IN} {m} {shown}"),
                ));
            }
        }
        // Merge(resMultiple, resMinimum, resMaximum)
        res.add_errors(errs);
        res.add_errors(min_errs);
        res.add_errors(max_errs);
        res.inc();
        res
    }

    fn slice_validate(&self, s: &Schema, path: &str, data: &Value, old: Option<&Value>) -> VResult {
        let mut result = VResult::default();
        let Value::Array(a) = data else { return result };
        let size = a.len() as i64;
        if let Some(items) = s.items.as_deref() {
            for (i, v) in a.iter().enumerate() {
                let child_old = old.and_then(|o| correlate_index(s, o, data, i));
                result.merge(self.validate_node(items, &format!("{path}[{i}]"), v, child_old));
            }
        }
        if let Some(min) = s.min_items
            && size < min
        {
            let mut e = OErr::new(
                Code::MinItems,
                path,
                Some(Value::from(size)),
                format!("{path} in {IN} should have at least {min} items"),
            );
            e.valid = Some(min);
            result.add_errors([e]);
        }
        if let Some(max) = s.max_items
            && size > max
        {
            let mut e = OErr::new(
                Code::MaxItems,
                path,
                Some(Value::from(size)),
                format!("{path} in {IN} should have at most {max} items"),
            );
            e.valid = Some(max);
            result.add_errors([e]);
        }
        if s.unique_items {
            let mut seen: Vec<&Value> = Vec::new();
            for v in a {
                if seen.iter().any(|u| go_deep_equal(u, v)) {
                    result.add_errors([OErr::new(
                        Code::Unique,
                        path,
                        None,
                        format!("{path} in {IN} shouldn't contain duplicates"),
                    )]);
                    break;
                }
                seen.push(v);
            }
        }
        result.inc();
        result
    }

    fn object_validate(
        &self,
        s: &Schema,
        path: &str,
        data: &Value,
        old: Option<&Value>,
    ) -> VResult {
        let mut res = VResult::default();
        let Value::Object(m) = data else { return res };
        let n = m.len() as i64;
        if let Some(min) = s.min_properties
            && n < min
        {
            let mut e = OErr::new(
                Code::TooFewProperties,
                path,
                Some(Value::from(n)),
                format!("{path} in {IN} should have at least {min} properties"),
            );
            e.valid = Some(min);
            res.add_errors([e]);
        }
        if let Some(max) = s.max_properties
            && n > max
        {
            let mut e = OErr::new(
                Code::TooManyProperties,
                path,
                Some(Value::from(n)),
                format!("{path} in {IN} should have at most {max} properties"),
            );
            e.valid = Some(max);
            res.add_errors([e]);
        }
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        match &s.additional_properties {
            Some(AdditionalProperties::Bool(false)) => {
                for k in &keys {
                    if s.property(k).is_none() {
                        res.add_errors([OErr::new(
                            Code::Unallowed,
                            path,
                            Some(Value::String((*k).clone())),
                            format!("{path}.{k} in {IN} is a forbidden property"),
                        )]);
                    }
                }
            }
            Some(AdditionalProperties::Schema(ap)) => {
                for k in &keys {
                    if s.property(k).is_none() {
                        let child_old = old.and_then(|o| correlate_key(s, o, data, k, path));
                        res.merge(self.validate_node(
                            ap,
                            &format!("{path}.{k}"),
                            &m[k.as_str()],
                            child_old,
                        ));
                    }
                }
            }
            _ => {}
        }
        for (p, ps) in s.props() {
            if let Some(v) = m.get(p) {
                let rname = if path.is_empty() {
                    p.clone()
                } else {
                    format!("{path}.{p}")
                };
                let child_old = old.and_then(|o| correlate_key(s, o, data, p, path));
                res.merge(self.validate_node(ps, &rname, v, child_old));
            }
        }
        for r in &s.required {
            if !m.contains_key(r) {
                let name = format!("{path}.{r}");
                res.add_errors([OErr::new(
                    Code::Required,
                    &name,
                    None,
                    format!("{name} in {IN} is required"),
                )]);
            }
        }
        res
    }

    fn props_validate(&self, s: &Schema, path: &str, data: &Value, old: Option<&Value>) -> VResult {
        let mut main = VResult::default();
        if !s.any_of.is_empty() {
            let mut best: Option<VResult> = None;
            let mut first_success: Option<VResult> = None;
            let mut succeeded = false;
            for sub in &s.any_of {
                let r = self.validate_schema(sub, path, data, old);
                if r.is_valid() {
                    best = None;
                    succeeded = true;
                    if first_success.is_none() {
                        first_success = Some(r);
                    }
                    break;
                }
                if best.as_ref().is_none_or(|b| r.matches > b.matches) {
                    best = Some(r);
                }
            }
            if !succeeded {
                main.add_errors([OErr::new(
                    Code::Composite,
                    path,
                    None,
                    format!(
                        "{} must validate at least one schema (anyOf)",
                        go_quote(path)
                    ),
                )]);
            }
            if let Some(b) = best {
                main.merge(b);
            } else if let Some(f) = first_success {
                main.merge(f);
            }
        }
        if !s.one_of.is_empty() {
            let mut best: Option<VResult> = None;
            let mut first_success: Option<VResult> = None;
            let mut validated = 0;
            for sub in &s.one_of {
                let r = self.validate_schema(sub, path, data, old);
                if r.is_valid() {
                    validated += 1;
                    best = None;
                    if first_success.is_none() {
                        first_success = Some(r);
                    }
                    continue;
                }
                if validated == 0 && best.as_ref().is_none_or(|b| r.matches > b.matches) {
                    best = Some(r);
                }
            }
            if validated != 1 {
                let extra = if validated == 0 {
                    "Found none valid".to_string()
                } else {
                    format!("Found {validated} valid alternatives")
                };
                main.add_errors([OErr::new(
                    Code::Composite,
                    path,
                    None,
                    format!(
                        "{} must validate one and only one schema (oneOf). {extra}",
                        go_quote(path)
                    ),
                )]);
                if let Some(b) = best {
                    main.merge(b);
                }
            } else if let Some(f) = first_success {
                main.merge(f);
            }
        }
        if !s.all_of.is_empty() {
            let mut validated = 0;
            for sub in &s.all_of {
                let r = self.validate_schema(sub, path, data, old);
                if r.is_valid() {
                    validated += 1;
                }
                main.merge(r);
            }
            if validated != s.all_of.len() {
                let extra = if validated == 0 {
                    ". None validated"
                } else {
                    ""
                };
                main.add_errors([OErr::new(
                    Code::Composite,
                    path,
                    None,
                    format!(
                        "{} must validate all the schemas (allOf){extra}",
                        go_quote(path)
                    ),
                )]);
            }
        }
        if let Some(not) = &s.not {
            let r = self.validate_schema(not, path, data, old);
            if r.is_valid() {
                main.add_errors([OErr::new(
                    Code::Composite,
                    path,
                    None,
                    format!("{} must not validate the schema (not)", go_quote(path)),
                )]);
            }
        }
        main.inc();
        main
    }
}

fn invalid_type(path: &str, type_name: &str, got: &str) -> OErr {
    OErr::new(
        Code::InvalidType,
        path,
        Some(Value::String(got.to_string())),
        format!(
            "{path} in {IN} must be of type {type_name}: {}",
            go_quote(got)
        ),
    )
}

fn invalid_type_value(path: &str, type_name: &str, value: Value, shown: &str) -> OErr {
    OErr::new(
        Code::InvalidType,
        path,
        Some(value),
        format!(
            "{path} in {IN} must be of type {type_name}: {}",
            go_quote(shown)
        ),
    )
}

/// Go's `%v` of the enum's `[]interface{}`.
fn go_slice_v(values: &[Value]) -> String {
    super::gofmt::go_v(&Value::Array(values.to_vec()))
}

/// `reflect.DeepEqual` over decoded JSON (int64 and float64 never equal).
pub(crate) fn go_deep_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(_), Value::Number(_)) => num(a) == num(b),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| go_deep_equal(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| go_deep_equal(v, w)))
        }
        _ => a == b,
    }
}

/// The enum check of kube-openapi's common validator: equal after Go's reflect conversion of
/// the value to the enum value's type.
fn enum_matches(data: &Value, e: &Value) -> bool {
    if data.is_null() || e.is_null() {
        return false;
    }
    match (num(data), num(e)) {
        (Some(d), Some(en)) => {
            return match (d, en) {
                (Num::Int(a), Num::Int(b)) => a == b,
                (Num::Int(a), Num::Float(b)) => a as f64 == b,
                // a float64 converted to int64 truncates
                (Num::Float(a), Num::Int(b)) => a as i64 == b,
                (Num::Float(a), Num::Float(b)) => a == b,
            };
        }
        (Some(Num::Int(i)), None) => {
            // an int converts to a string as the rune it encodes
            if let Value::String(s) = e {
                let r = u32::try_from(i)
                    .ok()
                    .and_then(char::from_u32)
                    .unwrap_or('\u{FFFD}');
                return s.chars().count() == 1 && s.starts_with(r);
            }
            return false;
        }
        _ => {}
    }
    go_deep_equal(data, e)
}

// ---------------------------------------------------------------------------------------------
// ratcheting correlation
// ---------------------------------------------------------------------------------------------

/// The old value of the field `k` when it correlates (both old and new have it and the schema
/// gives it a schema), except apiVersion/kind at the root.
fn correlate_key<'o>(
    s: &Schema,
    old: &'o Value,
    new: &Value,
    k: &str,
    path: &str,
) -> Option<&'o Value> {
    if path.is_empty() && (k == "kind" || k == "apiVersion") {
        return None;
    }
    key_child(s, old, new, k)
}

fn key_child<'o>(s: &Schema, old: &'o Value, new: &Value, k: &str) -> Option<&'o Value> {
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return None;
    };
    let ov = o.get(k)?;
    n.get(k)?;
    s.child(k)?;
    Some(ov)
}

/// The old item that the new item `i` correlates with: only in `x-kubernetes-list-type: map`
/// lists, by the list's keys (first old item with the same keys).
pub(crate) fn correlate_index<'o>(
    s: &Schema,
    old: &'o Value,
    new: &Value,
    i: usize,
) -> Option<&'o Value> {
    let (Value::Array(o), Value::Array(n)) = (old, new) else {
        return None;
    };
    let item = n.get(i)?;
    if s.type_ != "array" || s.x_list_type.as_deref() != Some("map") || s.x_list_map_keys.is_empty()
    {
        return None;
    }
    s.items.as_ref()?;
    let key = map_list_key(s, item)?;
    o.iter().find(|x| map_list_key(s, x).as_ref() == Some(&key))
}

/// The composite key of a map-list item: the key fields' values, defaults for missing ones.
pub(crate) fn map_list_key(s: &Schema, item: &Value) -> Option<Vec<Option<String>>> {
    let Value::Object(m) = item else { return None };
    Some(
        s.x_list_map_keys
            .iter()
            .map(|k| {
                m.get(k)
                    .or_else(|| {
                        s.items
                            .as_deref()
                            .and_then(|it| it.property(k))
                            .and_then(|p| p.default.as_ref())
                    })
                    .map(go_json)
            })
            .collect(),
    )
}

/// Upstream `CorrelatedObject.CachedDeepEqual`: objects are equal when every field of the new
/// object correlates to an equal old field; map-type lists compare item by item through their
/// keys; other lists and scalars with `reflect.DeepEqual`.
pub(crate) fn correlated_equal(old: &Value, new: &Value, s: &Schema) -> bool {
    match (old, new) {
        (Value::Null, Value::Null) => true,
        (Value::Null, _) | (_, Value::Null) => false,
        (Value::Array(o), Value::Array(n)) => {
            if o.len() != n.len() {
                return false;
            }
            let map_list = s.x_list_type.as_deref() == Some("map");
            for (i, item) in n.iter().enumerate() {
                let child_old = correlate_index(s, old, new, i);
                match (child_old, s.items.as_deref()) {
                    (Some(co), Some(items)) => {
                        if !correlated_equal(co, item, items) {
                            return false;
                        }
                    }
                    _ => {
                        if !map_list {
                            return go_deep_equal(old, new);
                        }
                        return false;
                    }
                }
            }
            true
        }
        (Value::Object(o), Value::Object(n)) => {
            if o.len() != n.len() {
                return false;
            }
            for k in n.keys() {
                match (key_child(s, old, new, k), s.child(k)) {
                    (Some(co), Some(cs)) => {
                        if !correlated_equal(co, &n[k], cs) {
                            return false;
                        }
                    }
                    _ => return false,
                }
            }
            true
        }
        (Value::Array(_), _)
        | (_, Value::Array(_))
        | (Value::Object(_), _)
        | (_, Value::Object(_)) => false,
        _ => go_deep_equal(old, new),
    }
}

/// Compiles a schema `pattern` (Go RE2 syntax; Rust's `regex` is close to it).
pub(crate) fn compile_pattern(p: &str) -> Result<regex::Regex, String> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Result<regex::Regex, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(r) = cache.lock().expect("regex cache").get(p) {
        return r.clone();
    }
    let r = regex::Regex::new(p).map_err(|e| regex_error_text(p, &e));
    let mut c = cache.lock().expect("regex cache");
    if c.len() > 1024 {
        c.clear();
    }
    c.insert(p.to_string(), r.clone());
    r
}

/// A regexp compile error in Go's form where the cause is recognizable
/// (`error parsing regexp: missing closing ): `+"`(a`"+``).
fn regex_error_text(p: &str, e: &regex::Error) -> String {
    let t = e.to_string();
    let code = if t.contains("unclosed group") {
        format!("missing closing ): `{p}`")
    } else if t.contains("unopened group") {
        format!("unexpected ): `{p}`")
    } else if t.contains("unclosed character class") {
        let i = p.rfind('[').unwrap_or(0);
        format!("missing closing ]: `{}`", &p[i..])
    } else if t.contains("repetition operator missing expression") {
        let i = p.find(['*', '+', '?']).unwrap_or(0);
        format!(
            "missing argument to repetition operator: `{}`",
            &p[i..(i + 1).min(p.len())]
        )
    } else if t.contains("incomplete escape sequence") {
        "trailing backslash at end of expression: ``".to_string()
    } else if t.contains("unrecognized escape sequence") {
        format!("invalid escape sequence: `{p}`")
    } else {
        format!(
            "{}: `{p}`",
            t.lines()
                .last()
                .unwrap_or("invalid regexp")
                .trim_start_matches("error: ")
        )
    };
    format!("error parsing regexp: {code}")
}

// ---------------------------------------------------------------------------------------------
// field errors
// ---------------------------------------------------------------------------------------------

/// Upstream `kubeOpenAPIResultToFieldErrors`: `base` is the field path the validated value
/// sits at (`None` for the resource root, printed as `<nil>` where upstream prints a nil path).
fn to_field_errors(base: Option<&str>, errs: Vec<OErr>) -> Vec<FieldError> {
    let nil = || base.unwrap_or("<nil>").to_string();
    let mut out = Vec::new();
    for e in errs {
        let path = if e.code == Code::Composite || e.name.is_empty() || e.name == "." {
            nil()
        } else {
            let n = e.name.strip_prefix('.').unwrap_or(&e.name);
            match base {
                Some(b) => format!("{b}.{n}"),
                None => n.to_string(),
            }
        };
        let val = |v: &Option<Value>| match v {
            None => Value::String(String::new()),
            Some(v) => field_value(v),
        };
        let fe = match e.code {
            Code::Composite => FieldError::invalid(path, "", e.message),
            Code::Required => FieldError::required(path, ""),
            Code::Enum => {
                let supported: Vec<String> = e
                    .values
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        other => go_json(other),
                    })
                    .collect();
                let detail = if supported.is_empty() {
                    String::new()
                } else {
                    format!(
                        "supported values: {}",
                        supported
                            .iter()
                            .map(|s| go_quote(s))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                };
                FieldError {
                    kind: ErrorKind::NotSupported,
                    path,
                    value: Some(match &e.value {
                        None => Value::String("null".into()),
                        Some(v) => field_value(v),
                    }),
                    detail,
                }
            }
            Code::TooLong => FieldError::too_long(path, e.valid.unwrap_or(-1).max(0) as usize),
            Code::MaxItems | Code::TooManyProperties => {
                let actual = e.value.as_ref().and_then(Value::as_i64).unwrap_or(-1);
                FieldError::too_many(
                    path,
                    actual.max(0) as usize,
                    e.valid.unwrap_or(-1).max(0) as usize,
                )
            }
            Code::InvalidType => FieldError {
                kind: ErrorKind::TypeInvalid,
                path,
                value: Some(val(&e.value)),
                detail: e.message,
            },
            _ => FieldError::invalid(path, val(&e.value), e.message),
        };
        out.push(fe);
    }
    out
}

/// Validates `data` against `s` as upstream validates a custom resource (or, with
/// `Mode::Default`, a default value); `old` enables ratcheting. `base` is the field path of
/// `data` (`None` at the resource root). Returns the errors and the ratcheted ones.
pub(crate) fn validate_value(
    s: &Schema,
    data: &Value,
    old: Option<&Value>,
    base: Option<&str>,
    mode: Mode,
) -> (Vec<FieldError>, Vec<FieldError>) {
    let v = Validator { mode, root: s };
    let _ = v.root;
    let res = v.validate_node(s, "", data, old);
    (
        to_field_errors(base, res.errors),
        to_field_errors(base, res.warnings),
    )
}
