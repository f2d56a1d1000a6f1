//! libyaml's event parser, behind a safe interface of owned events. go-yaml, which Helm and
//! kubectl read YAML with, is a port of libyaml, so parsing with libyaml itself gives
//! go-yaml's structure and its leniency (a quoted scalar continued at a lesser indentation,
//! a block scalar that runs to the end of the text without a line break). The library is
//! unsafe-libyaml, the C code transpiled, as serde_yaml uses it; all unsafe code of the
//! crate is in this file.

use std::ffi::CStr;
use std::mem::MaybeUninit;

use unsafe_libyaml as unsafe_sys;

/// One parsing event, owned.
pub enum Event {
    DocumentStart,
    DocumentEnd,
    StreamEnd,
    Alias {
        anchor: String,
    },
    Scalar {
        anchor: Option<String>,
        tag: Option<String>,
        value: String,
        style: Style,
    },
    SequenceStart {
        anchor: Option<String>,
    },
    SequenceEnd,
    MappingStart {
        anchor: Option<String>,
    },
    MappingEnd,
    /// Stream start, and anything this crate has no use for.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
    Block,
}

/// A parse error with what go-yaml reports of it.
pub struct ParseError {
    pub problem: String,
    /// 0-based lines of the problem and of its context (0 when unknown).
    pub problem_line: u64,
    pub context_line: u64,
    pub from_scanner: bool,
}

pub struct Parser<'input> {
    // Boxed: libyaml's state must not move once initialized.
    sys: Box<MaybeUninit<unsafe_sys::yaml_parser_t>>,
    _input: &'input [u8],
}

impl<'input> Parser<'input> {
    pub fn new(input: &'input [u8]) -> Parser<'input> {
        let mut sys = Box::new(MaybeUninit::<unsafe_sys::yaml_parser_t>::uninit());
        // SAFETY: `sys` is allocated and pinned in its box; libyaml initializes it here, and
        // it keeps a pointer to `input`, which outlives the parser by its lifetime.
        unsafe {
            let parser = sys.as_mut_ptr();
            if unsafe_sys::yaml_parser_initialize(parser).fail {
                // Only a failed allocation fails initialization, as it does in Rust.
                std::alloc::handle_alloc_error(
                    std::alloc::Layout::new::<unsafe_sys::yaml_parser_t>(),
                );
            }
            unsafe_sys::yaml_parser_set_encoding(parser, unsafe_sys::YAML_UTF8_ENCODING);
            unsafe_sys::yaml_parser_set_input_string(parser, input.as_ptr(), input.len() as u64);
        }
        Parser { sys, _input: input }
    }

    /// The next event and the line (0-based) it starts on.
    pub fn next(&mut self) -> Result<(Event, u64), ParseError> {
        let mut event = MaybeUninit::<unsafe_sys::yaml_event_t>::uninit();
        // SAFETY: the parser was initialized in `new`; a parsed event is read, then freed
        // with yaml_event_delete, and nothing borrowed from it outlives this block.
        unsafe {
            let parser = self.sys.as_mut_ptr();
            let failed_before = (&*parser).error != unsafe_sys::YAML_NO_ERROR;
            if failed_before || unsafe_sys::yaml_parser_parse(parser, event.as_mut_ptr()).fail {
                return Err(error(&*parser));
            }
            let event = event.as_mut_ptr();
            let line = (*event).start_mark.line;
            let converted = convert(&*event);
            unsafe_sys::yaml_event_delete(event);
            Ok((converted, line))
        }
    }
}

impl Drop for Parser<'_> {
    fn drop(&mut self) {
        // SAFETY: initialized in `new`, deleted once.
        unsafe { unsafe_sys::yaml_parser_delete(self.sys.as_mut_ptr()) }
    }
}

/// # Safety
/// `event` is a parsed event whose pointers are valid.
unsafe fn convert(event: &unsafe_sys::yaml_event_t) -> Event {
    unsafe {
        match event.type_ {
            unsafe_sys::YAML_DOCUMENT_START_EVENT => Event::DocumentStart,
            unsafe_sys::YAML_DOCUMENT_END_EVENT => Event::DocumentEnd,
            unsafe_sys::YAML_STREAM_END_EVENT => Event::StreamEnd,
            unsafe_sys::YAML_ALIAS_EVENT => Event::Alias {
                anchor: text(event.data.alias.anchor).unwrap_or_default(),
            },
            unsafe_sys::YAML_SCALAR_EVENT => {
                let scalar = &event.data.scalar;
                let bytes = std::slice::from_raw_parts(scalar.value, scalar.length as usize);
                Event::Scalar {
                    anchor: text(scalar.anchor),
                    tag: text(scalar.tag),
                    value: crate::text_of(bytes),
                    style: match scalar.style {
                        unsafe_sys::YAML_PLAIN_SCALAR_STYLE => Style::Plain,
                        unsafe_sys::YAML_LITERAL_SCALAR_STYLE
                        | unsafe_sys::YAML_FOLDED_SCALAR_STYLE => Style::Block,
                        _ => Style::Quoted,
                    },
                }
            }
            unsafe_sys::YAML_SEQUENCE_START_EVENT => Event::SequenceStart {
                anchor: text(event.data.sequence_start.anchor),
            },
            unsafe_sys::YAML_SEQUENCE_END_EVENT => Event::SequenceEnd,
            unsafe_sys::YAML_MAPPING_START_EVENT => Event::MappingStart {
                anchor: text(event.data.mapping_start.anchor),
            },
            unsafe_sys::YAML_MAPPING_END_EVENT => Event::MappingEnd,
            _ => Event::Other,
        }
    }
}

/// # Safety
/// `ptr` is null or a NUL-terminated string.
unsafe fn text(ptr: *const u8) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    let c = unsafe { CStr::from_ptr(ptr.cast()) };
    Some(c.to_string_lossy().into_owned())
}

/// # Safety
/// `parser` has failed; its problem is null or a static NUL-terminated string.
unsafe fn error(parser: &unsafe_sys::yaml_parser_t) -> ParseError {
    ParseError {
        problem: unsafe { text(parser.problem.cast()) }.unwrap_or_default(),
        problem_line: parser.problem_mark.line,
        context_line: parser.context_mark.line,
        from_scanner: parser.error == unsafe_sys::YAML_SCANNER_ERROR,
    }
}
