//! Evaluating pipelines, commands, arguments and field chains, with Go's typing rules for
//! function arguments (a `float64` is not an `int`; a number literal adapts to the parameter).

use super::{CallError, Exec, Frame};
use crate::funcs::{Func, Param};
use crate::object::Method;
use crate::template::TemplateError;
use crate::template::ast::{Arg, Command, Number, Pipe};
use crate::value::Value;

/// How a function is invoked: by name from the registry, or as an object's method.
enum Callee<'f> {
    Func(&'f Func),
    Method(Method, &'f Value),
}

impl Exec<'_> {
    pub(super) fn eval_pipeline(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        pipe: &Pipe,
    ) -> Result<Value, TemplateError> {
        let mut value: Option<Value> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(frame, dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for name in &pipe.decl {
            if pipe.is_assign {
                if let Some(slot) = frame.vars.iter_mut().rev().find(|(n, _)| n == name) {
                    slot.1 = value.clone();
                }
            } else {
                frame.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn eval_command(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        cmd: &Command,
        last: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let first = &cmd.args[0];
        let args = &cmd.args[1..];
        match first {
            Arg::Field(fields) => {
                self.eval_field_chain(frame, dot, dot.clone(), fields, cmd, args, last, first)
            }
            Arg::Chain(term, fields) => {
                if matches!(term.as_ref(), Arg::Nil) {
                    return Err(self.error(
                        frame,
                        cmd.pos,
                        &cmd.to_string(),
                        "indirection through explicit nil".into(),
                    ));
                }
                let receiver = self.eval_arg_value(frame, dot, term, cmd)?;
                self.eval_field_chain(frame, dot, receiver, fields, cmd, args, last, first)
            }
            Arg::Variable(name, fields) => {
                let value = self.var_value(frame, name, cmd)?;
                if fields.is_empty() {
                    self.not_a_function(frame, cmd, args, &last)?;
                    return Ok(value);
                }
                self.eval_field_chain(frame, dot, value, fields, cmd, args, last, first)
            }
            Arg::Ident(name) => {
                let funcs = self.funcs;
                let func = funcs.get(name).ok_or_else(|| {
                    self.error(
                        frame,
                        cmd.pos,
                        name,
                        format!("{name:?} is not a defined function"),
                    )
                })?;
                self.eval_call(frame, dot, Callee::Func(func), name, cmd, args, last)
            }
            Arg::Pipe(pipe) => {
                self.not_a_function(frame, cmd, args, &last)?;
                self.eval_pipeline(frame, dot, pipe)
            }
            constant => {
                self.not_a_function(frame, cmd, args, &last)?;
                match constant {
                    Arg::Bool(b) => Ok(Value::Bool(*b)),
                    Arg::Dot => Ok(dot.clone()),
                    Arg::Nil => {
                        Err(self.error(frame, cmd.pos, "nil", "nil is not a command".into()))
                    }
                    Arg::Number(n) => self.ideal_constant(frame, cmd, n),
                    Arg::Str(s) => Ok(Value::str(s.as_str())),
                    _ => unreachable!("handled above"),
                }
            }
        }
    }

    fn not_a_function(
        &self,
        frame: &Frame,
        cmd: &Command,
        args: &[Arg],
        last: &Option<Value>,
    ) -> Result<(), TemplateError> {
        if !args.is_empty() || last.is_some() {
            return Err(self.error(
                frame,
                cmd.pos,
                &cmd.to_string(),
                format!("can't give argument to non-function {}", cmd.args[0]),
            ));
        }
        Ok(())
    }

    fn var_value(&self, frame: &Frame, name: &str, cmd: &Command) -> Result<Value, TemplateError> {
        frame
            .vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .ok_or_else(|| self.error(frame, cmd.pos, name, format!("undefined variable: {name}")))
    }

    /// Untyped constants: ints become Go `int`, `1.5`/`1e3` become `float64`.
    fn ideal_constant(
        &self,
        frame: &Frame,
        cmd: &Command,
        n: &Number,
    ) -> Result<Value, TemplateError> {
        if n.looks_float
            && let Some(f) = n.float
        {
            return Ok(Value::Float(f));
        }
        match n.int {
            Some(i) => Ok(Value::Int(i)),
            None => Err(self.error(frame, cmd.pos, &n.text, format!("{} overflows int", n.text))),
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_field_chain(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        mut receiver: Value,
        fields: &[crate::template::ast::Name],
        cmd: &Command,
        args: &[Arg],
        last: Option<Value>,
        node: &Arg,
    ) -> Result<Value, TemplateError> {
        // A nil receiver at the start of a chain (nil data, a nil variable) yields nil; a
        // nil reached through a map key inside the chain is Go's "nil pointer" error.
        let mut from_map = false;
        for (i, field) in fields.iter().enumerate() {
            let is_last = i + 1 == fields.len();
            if let Value::Nil = receiver {
                if !from_map {
                    return Ok(Value::Nil);
                }
                let message = format!("nil pointer evaluating interface {{}}.{field}");
                return Err(self.error(frame, cmd.pos, &node.to_string(), message));
            }
            let has_args = is_last && (!args.is_empty() || last.is_some());
            if let Value::Object(object) = &receiver
                && let Some(method) = object.method(field)
            {
                let (call_args, call_last) = if is_last {
                    (args, last.clone())
                } else {
                    (&[][..], None)
                };
                let receiver_copy = receiver.clone();
                receiver = self.eval_call(
                    frame,
                    dot,
                    Callee::Method(method, &receiver_copy),
                    field,
                    cmd,
                    call_args,
                    call_last,
                )?;
                from_map = false;
                continue;
            }
            let next = match &receiver {
                Value::Map(entries) => {
                    if has_args {
                        return Err(self.error(
                            frame,
                            cmd.pos,
                            &node.to_string(),
                            format!("{field} is not a method but has arguments"),
                        ));
                    }
                    from_map = true;
                    let found = entries.borrow().get(&**field).cloned();
                    match found {
                        Some(value) => value,
                        None if self.missing_key_is_error => {
                            let message = format!("map has no entry for key \"{field}\"");
                            return Err(self.error(frame, cmd.pos, &node.to_string(), message));
                        }
                        None => Value::Nil,
                    }
                }
                Value::Object(object) => match object.field(field) {
                    Some(value) if !has_args => {
                        // A map-like type's missing field is a nil, as a map key is.
                        from_map = object.kind_name() == "map";
                        value
                    }
                    Some(_) => {
                        return Err(self.error(
                            frame,
                            cmd.pos,
                            &node.to_string(),
                            format!("{field} has arguments but cannot be invoked as function"),
                        ));
                    }
                    None => {
                        let message = format!(
                            "can't evaluate field {field} in type {}",
                            receiver.type_name()
                        );
                        return Err(self.error(frame, cmd.pos, &node.to_string(), message));
                    }
                },
                other => {
                    let message =
                        format!("can't evaluate field {field} in type {}", other.type_name());
                    return Err(self.error(frame, cmd.pos, &node.to_string(), message));
                }
            };
            receiver = next;
        }
        Ok(receiver)
    }

    #[allow(clippy::too_many_arguments)]
    fn eval_call(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        callee: Callee<'_>,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        last: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let (params, variadic, lazy): (&[Param], Option<Param>, bool) = match &callee {
            Callee::Func(func) => (func.params, func.variadic, func.lazy),
            Callee::Method(method, _) => (method.params, None, false),
        };
        let given = args.len() + usize::from(last.is_some());
        let count_error = match variadic {
            Some(_) if given < params.len() => {
                Some(format!("want at least {} got {given}", params.len()))
            }
            None if given != params.len() => Some(format!("want {} got {given}", params.len())),
            _ => None,
        };
        if let Some(count_error) = count_error {
            return Err(self.error(
                frame,
                cmd.pos,
                name,
                format!("wrong number of args for {name}: {count_error}"),
            ));
        }
        if lazy {
            return self.eval_and_or(frame, dot, name, cmd, args, last);
        }
        let param_at = |i: usize| params.get(i).copied().or(variadic).unwrap_or(Param::Any);
        let mut values = Vec::with_capacity(given);
        for (i, arg) in args.iter().enumerate() {
            values.push(self.eval_typed_arg(frame, dot, arg, param_at(i), cmd)?);
        }
        if let Some(last) = last {
            let value = param_at(values.len())
                .accept(last)
                .map_err(|message| self.error(frame, cmd.pos, &cmd.to_string(), message))?;
            values.push(value);
        }
        let result = match callee {
            Callee::Func(Func {
                unsupported: Some(why),
                ..
            }) => Err(CallError::Message(why.to_string())),
            Callee::Func(func) => (func.call)(self, values),
            Callee::Method(method, receiver) => match receiver {
                Value::Object(object) => (method.call)(object, &values).map_err(CallError::Message),
                _ => unreachable!("methods belong to objects"),
            },
        };
        result.map_err(|err| match err {
            CallError::Template(inner) => inner,
            CallError::Required(message) => self.required_error(frame, cmd.pos, message),
            CallError::Message(message) => self.error(
                frame,
                cmd.pos,
                &cmd.to_string(),
                format!("error calling {name}: {message}"),
            ),
        })
    }

    /// `and`/`or` evaluate their arguments only until the result is known, and return the
    /// deciding operand itself.
    fn eval_and_or(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        name: &str,
        cmd: &Command,
        args: &[Arg],
        last: Option<Value>,
    ) -> Result<Value, TemplateError> {
        let want = name == "or";
        let mut value = Value::Nil;
        for arg in args {
            value = self.eval_arg_value(frame, dot, arg, cmd)?;
            if value.truthy() == want {
                return Ok(value);
            }
        }
        Ok(last.unwrap_or(value))
    }

    /// An argument for a parameter of type `param`.
    fn eval_typed_arg(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        arg: &Arg,
        param: Param,
        cmd: &Command,
    ) -> Result<Value, TemplateError> {
        let constant_error = |this: &Self, what: &str| {
            this.error(
                frame,
                cmd.pos,
                &cmd.to_string(),
                format!("expected {what}; found {arg}"),
            )
        };
        match (arg, param) {
            (Arg::Nil, Param::Any | Param::Map) => Ok(Value::Nil),
            (Arg::Nil, _) => Err(self.error(
                frame,
                cmd.pos,
                &cmd.to_string(),
                format!("cannot assign nil to {}", param.go_type()),
            )),
            (Arg::Number(n), Param::Int) => match n.int {
                Some(i) => Ok(Value::Int(i)),
                None => Err(constant_error(self, "integer")),
            },
            (Arg::Number(n), Param::Float) => n
                .float
                .map(Value::Float)
                .ok_or_else(|| constant_error(self, "float")),
            (Arg::Number(n), Param::Any) => self.ideal_constant(frame, cmd, n),
            (Arg::Number(_), _) => Err(constant_error(self, param.go_type())),
            (Arg::Str(s), Param::Str | Param::StrBytes | Param::Any) => Ok(Value::str(s.as_str())),
            (Arg::Str(_), _) => Err(constant_error(self, param.go_type())),
            (Arg::Bool(b), Param::Bool | Param::Any) => Ok(Value::Bool(*b)),
            (Arg::Bool(_), _) => Err(constant_error(self, param.go_type())),
            _ => {
                let value = self.eval_arg_value(frame, dot, arg, cmd)?;
                // A nil read from a map (or returned by a function) is a typed `interface{}`
                // in Go, which a map parameter refuses; a nil variable or pipeline is untyped.
                let typed_nil = value.is_nil()
                    && param == Param::Map
                    && matches!(
                        arg,
                        Arg::Field(_) | Arg::Chain(..) | Arg::Ident(_) | Arg::Variable(_, _)
                    )
                    && !matches!(arg, Arg::Variable(_, fields) if fields.is_empty());
                if typed_nil {
                    let message =
                        "wrong type for value; expected map[string]interface {}; got interface {}";
                    return Err(self.error(frame, cmd.pos, &arg.to_string(), message.to_string()));
                }
                param
                    .accept(value)
                    .map_err(|message| self.error(frame, cmd.pos, &arg.to_string(), message))
            }
        }
    }

    /// An argument's value, untyped.
    fn eval_arg_value(
        &mut self,
        frame: &mut Frame,
        dot: &Value,
        arg: &Arg,
        cmd: &Command,
    ) -> Result<Value, TemplateError> {
        match arg {
            Arg::Dot => Ok(dot.clone()),
            Arg::Nil => Ok(Value::Nil),
            Arg::Bool(b) => Ok(Value::Bool(*b)),
            Arg::Number(n) => self.ideal_constant(frame, cmd, n),
            Arg::Str(s) => Ok(Value::str(s.as_str())),
            Arg::Pipe(pipe) => self.eval_pipeline(frame, dot, pipe),
            Arg::Ident(_) | Arg::Field(_) | Arg::Variable(..) | Arg::Chain(..) => {
                let sub = Command {
                    pos: cmd.pos,
                    args: vec![arg.clone()],
                };
                self.eval_command(frame, dot, &sub, None)
            }
        }
    }
}

impl Param {
    /// Go's assignability of a dynamic value to the parameter's static type.
    pub fn accept(self, value: Value) -> Result<Value, String> {
        if let (Param::Str, Value::BinaryStr(bytes)) = (self, &value) {
            return Ok(Value::str(String::from_utf8_lossy(bytes).into_owned()));
        }
        let ok = matches!(
            (self, &value),
            (Param::Any, _)
                | (Param::Map, Value::Map(_) | Value::Nil)
                | (Param::Str, Value::Str(_))
                | (Param::StrBytes, Value::Str(_) | Value::BinaryStr(_))
                | (Param::Int, Value::Int(_))
                | (Param::Float, Value::Float(_))
                | (Param::Bool, Value::Bool(_))
        );
        if ok {
            return Ok(value);
        }
        if value.is_nil() {
            return Err(format!("invalid value; expected {}", self.go_type()));
        }
        Err(format!(
            "wrong type for value; expected {}; got {}",
            self.go_type(),
            value.type_name()
        ))
    }
}
