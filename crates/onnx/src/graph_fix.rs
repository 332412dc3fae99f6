//! CenterFace as shipped pins its input to [10,3,32,32] and lists its initializers as graph inputs, which
//! forces a fixed size and stops ONNX Runtime from constant-folding (1.5–2× slower). This rewrites the ONNX
//! protobuf in memory, at the wire level (no protobuf dependency): initializers are dropped from the graph
//! inputs, every input/output dimension except the channel one becomes symbolic, and `value_info` (which
//! would pin intermediate shapes) is dropped.

use std::collections::HashSet;

#[derive(Debug, PartialEq, Eq)]
pub struct WireError(pub &'static str);

// ModelProto.graph, GraphProto.{initializer,input,output,value_info}, TensorProto.name,
// ValueInfoProto.{name,type}, TypeProto.tensor_type, TypeProto.Tensor.shape, TensorShapeProto.dim,
// Dimension.{dim_value,dim_param}.
const MODEL_GRAPH: u32 = 7;
const GRAPH_INITIALIZER: u32 = 5;
const GRAPH_INPUT: u32 = 11;
const GRAPH_OUTPUT: u32 = 12;
const GRAPH_VALUE_INFO: u32 = 13;
const TENSOR_NAME: u32 = 8;
const VALUE_INFO_NAME: u32 = 1;
const VALUE_INFO_TYPE: u32 = 2;
const TYPE_TENSOR: u32 = 1;
const TENSOR_TYPE_SHAPE: u32 = 2;
const SHAPE_DIM: u32 = 1;
const DIM_VALUE: u32 = 1;
const DIM_PARAM: u32 = 2;

struct Field<'a> {
    number: u32,
    wire: u8,
    /// The whole field as encoded (tag included), for verbatim copies.
    raw: &'a [u8],
    /// Payload of a length-delimited field, or the varint's value bytes.
    payload: &'a [u8],
    /// Decoded value of a varint field (read by the tests).
    #[cfg_attr(not(test), allow(dead_code))]
    varint: u64,
}

fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let mut v: u64 = 0;
    for shift in (0..64).step_by(7) {
        let b = *buf.get(*pos).ok_or(WireError("truncated varint"))?;
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(WireError("varint too long"))
}

fn fields(buf: &[u8]) -> Result<Vec<Field<'_>>, WireError> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let start = pos;
        let tag = read_varint(buf, &mut pos)?;
        let (number, wire) = ((tag >> 3) as u32, (tag & 7) as u8);
        let (payload, varint) = match wire {
            0 => {
                let s = pos;
                let v = read_varint(buf, &mut pos)?;
                (&buf[s..pos], v)
            }
            1 | 5 => {
                let n = if wire == 1 { 8 } else { 4 };
                let s = pos;
                pos += n;
                (
                    buf.get(s..pos).ok_or(WireError("truncated fixed field"))?,
                    0,
                )
            }
            2 => {
                let len = read_varint(buf, &mut pos)? as usize;
                let s = pos;
                pos = pos.checked_add(len).ok_or(WireError("length overflow"))?;
                (buf.get(s..pos).ok_or(WireError("truncated field"))?, 0)
            }
            _ => return Err(WireError("unsupported wire type")),
        };
        out.push(Field {
            number,
            wire,
            raw: &buf[start..pos],
            payload,
            varint,
        });
    }
    Ok(out)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, number: u32, payload: &[u8]) {
    put_varint(out, (u64::from(number) << 3) | 2);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

fn string_field(buf: &[u8], number: u32) -> Result<Option<String>, WireError> {
    Ok(fields(buf)?
        .into_iter()
        .find(|f| f.number == number && f.wire == 2)
        .map(|f| String::from_utf8_lossy(f.payload).into_owned()))
}

/// Rewrites a ModelProto as described in the module doc.
pub fn make_dynamic(model: &[u8]) -> Result<Vec<u8>, WireError> {
    let mut out = Vec::with_capacity(model.len());
    let mut saw_graph = false;
    for f in fields(model)? {
        if f.number == MODEL_GRAPH && f.wire == 2 {
            saw_graph = true;
            put_bytes(&mut out, MODEL_GRAPH, &rewrite_graph(f.payload)?);
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    if !saw_graph {
        return Err(WireError("model has no graph"));
    }
    Ok(out)
}

fn rewrite_graph(graph: &[u8]) -> Result<Vec<u8>, WireError> {
    let fs = fields(graph)?;
    let mut initializers = HashSet::new();
    for f in fs.iter().filter(|f| f.number == GRAPH_INITIALIZER) {
        if let Some(name) = string_field(f.payload, TENSOR_NAME)? {
            initializers.insert(name);
        }
    }
    let mut out = Vec::with_capacity(graph.len());
    for f in &fs {
        match f.number {
            GRAPH_INPUT | GRAPH_OUTPUT if f.wire == 2 => {
                let name = string_field(f.payload, VALUE_INFO_NAME)?.unwrap_or_default();
                if f.number == GRAPH_INPUT && initializers.contains(&name) {
                    continue;
                }
                put_bytes(&mut out, f.number, &rewrite_value_info(f.payload, &name)?);
            }
            GRAPH_VALUE_INFO => {}
            _ => out.extend_from_slice(f.raw),
        }
    }
    Ok(out)
}

/// Descends ValueInfoProto → TypeProto → Tensor → TensorShapeProto and makes the dimensions symbolic.
fn rewrite_value_info(vi: &[u8], name: &str) -> Result<Vec<u8>, WireError> {
    rewrite_nested(
        vi,
        &[VALUE_INFO_TYPE, TYPE_TENSOR, TENSOR_TYPE_SHAPE],
        &|shape| {
            let mut out = Vec::new();
            for (i, f) in fields(shape)?.iter().enumerate() {
                if f.number != SHAPE_DIM {
                    out.extend_from_slice(f.raw);
                    continue;
                }
                // Dimension 1 is the channel count, fixed by the weights; keep it.
                let keep = i == 1 && fields(f.payload)?.iter().any(|d| d.number == DIM_VALUE);
                if keep {
                    out.extend_from_slice(f.raw);
                } else {
                    let mut dim = Vec::new();
                    put_bytes(&mut dim, DIM_PARAM, format!("{name}_d{i}").as_bytes());
                    put_bytes(&mut out, SHAPE_DIM, &dim);
                }
            }
            Ok(out)
        },
    )
}

type Rewrite<'r> = &'r dyn Fn(&[u8]) -> Result<Vec<u8>, WireError>;

fn rewrite_nested(buf: &[u8], path: &[u32], leaf: Rewrite) -> Result<Vec<u8>, WireError> {
    let Some((&first, rest)) = path.split_first() else {
        return leaf(buf);
    };
    let mut out = Vec::with_capacity(buf.len());
    for f in fields(buf)? {
        if f.number == first && f.wire == 2 {
            put_bytes(&mut out, first, &rewrite_nested(f.payload, rest, leaf)?);
        } else {
            out.extend_from_slice(f.raw);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dim_value(v: u64) -> Vec<u8> {
        let mut d = Vec::new();
        put_varint(&mut d, u64::from(DIM_VALUE) << 3);
        put_varint(&mut d, v);
        d
    }

    fn value_info(name: &str, dims: &[u64]) -> Vec<u8> {
        let mut shape = Vec::new();
        for &v in dims {
            put_bytes(&mut shape, SHAPE_DIM, &dim_value(v));
        }
        let mut tensor = Vec::new();
        put_bytes(&mut tensor, TENSOR_TYPE_SHAPE, &shape);
        let mut ty = Vec::new();
        put_bytes(&mut ty, TYPE_TENSOR, &tensor);
        let mut vi = Vec::new();
        put_bytes(&mut vi, VALUE_INFO_NAME, name.as_bytes());
        put_bytes(&mut vi, VALUE_INFO_TYPE, &ty);
        vi
    }

    fn dims_of(vi: &[u8]) -> Vec<String> {
        let ty = fields(vi)
            .unwrap()
            .into_iter()
            .find(|f| f.number == 2)
            .unwrap();
        let t = fields(ty.payload).unwrap().into_iter().next().unwrap();
        let s = fields(t.payload)
            .unwrap()
            .into_iter()
            .find(|f| f.number == 2)
            .unwrap();
        fields(s.payload)
            .unwrap()
            .iter()
            .map(|d| {
                let inner = &fields(d.payload).unwrap()[0];
                if inner.number == DIM_VALUE {
                    inner.varint.to_string()
                } else {
                    String::from_utf8_lossy(inner.payload).into_owned()
                }
            })
            .collect()
    }

    #[test]
    fn initializer_inputs_dropped_and_shapes_made_symbolic() {
        let mut init = Vec::new();
        put_bytes(&mut init, TENSOR_NAME, b"w");
        let mut graph = Vec::new();
        put_bytes(&mut graph, GRAPH_INITIALIZER, &init);
        put_bytes(
            &mut graph,
            GRAPH_INPUT,
            &value_info("input.1", &[10, 3, 32, 32]),
        );
        put_bytes(&mut graph, GRAPH_INPUT, &value_info("w", &[8]));
        put_bytes(&mut graph, GRAPH_OUTPUT, &value_info("537", &[10, 1, 8, 8]));
        put_bytes(&mut graph, GRAPH_VALUE_INFO, &value_info("x", &[1]));
        let mut model = Vec::new();
        put_varint(&mut model, 1 << 3); // ir_version
        put_varint(&mut model, 4);
        put_bytes(&mut model, MODEL_GRAPH, &graph);

        let fixed = make_dynamic(&model).unwrap();
        let g = fields(&fixed)
            .unwrap()
            .into_iter()
            .find(|f| f.number == 7)
            .unwrap();
        let gf = fields(g.payload).unwrap();
        let inputs: Vec<_> = gf.iter().filter(|f| f.number == GRAPH_INPUT).collect();
        assert_eq!(inputs.len(), 1, "initializer w must leave the inputs");
        assert_eq!(
            dims_of(inputs[0].payload),
            ["input.1_d0", "3", "input.1_d2", "input.1_d3"]
        );
        let out = gf.iter().find(|f| f.number == GRAPH_OUTPUT).unwrap();
        assert_eq!(dims_of(out.payload), ["537_d0", "1", "537_d2", "537_d3"]);
        assert!(gf.iter().all(|f| f.number != GRAPH_VALUE_INFO));
        assert!(gf.iter().any(|f| f.number == GRAPH_INITIALIZER));
    }

    #[test]
    fn truncated_model_is_an_error_not_a_panic() {
        assert!(make_dynamic(&[0x3a, 0x10, 0x01]).is_err());
        assert!(make_dynamic(&[]).is_err());
    }
}
