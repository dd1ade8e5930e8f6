//! The extract as a Parquet file: one row group, flat columns of UTF-8 text or 32-bit integers,
//! no compression codec (the file is age-encrypted as a whole anyway), and the data dictionary
//! in the file's key-value metadata so that the file describes itself in DuckDB or Spark.

use std::sync::Arc;

use parquet::data_type::{ByteArray, ByteArrayType, Int32Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;

use crate::error::{Error, Result};

/// One column's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Values {
    Text(Vec<String>),
    Int(Vec<i32>),
}

/// A named column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Column {
    pub name: &'static str,
    pub values: Values,
}

fn failed(_: parquet::errors::ParquetError) -> Error {
    Error::internal("the Parquet file could not be written")
}

/// The Parquet bytes of `columns` (all of one length), with `metadata` as key-value pairs.
pub(crate) fn write(columns: &[Column], metadata: &[(&str, String)]) -> Result<Vec<u8>> {
    let fields: Vec<String> = columns
        .iter()
        .map(|c| match c.values {
            Values::Text(_) => format!("required binary {} (UTF8);", c.name),
            Values::Int(_) => format!("required int32 {};", c.name),
        })
        .collect();
    let schema = Arc::new(parse_message_type(&format!("message extract {{ {} }}", fields.join(" "))).map_err(failed)?);
    let kv = metadata.iter().map(|(k, v)| KeyValue::new((*k).to_owned(), v.clone())).collect();
    let props = Arc::new(WriterProperties::builder().set_key_value_metadata(Some(kv)).build());
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props).map_err(failed)?;
    let mut group = writer.next_row_group().map_err(failed)?;
    for column in columns {
        let mut w =
            group.next_column().map_err(failed)?.ok_or_else(|| Error::internal("a Parquet column is missing"))?;
        match &column.values {
            Values::Text(v) => {
                let bytes: Vec<ByteArray> = v.iter().map(|s| ByteArray::from(s.as_str())).collect();
                w.typed::<ByteArrayType>().write_batch(&bytes, None, None).map_err(failed)?;
            }
            Values::Int(v) => {
                w.typed::<Int32Type>().write_batch(v, None, None).map_err(failed)?;
            }
        }
        w.close().map_err(failed)?;
    }
    group.close().map_err(failed)?;
    writer.close().map_err(failed)?;
    Ok(out)
}
