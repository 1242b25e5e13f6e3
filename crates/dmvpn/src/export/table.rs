//! Parquet plumbing: typed column buffers, one writer per partition, row groups flushed as they
//! fill, files renamed into place once complete. The low-level column writers of the `parquet`
//! crate are used directly (no Arrow arrays: a smaller build).

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::ExportError;

/// A column's physical type and logical annotation.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(super) enum Kind {
    /// INT64 TIMESTAMP(MICROS, UTC).
    Time,
    /// INT64.
    Int64,
    /// INT32.
    Int32,
    /// BOOLEAN.
    Bool,
    /// BYTE_ARRAY STRING (UTF-8).
    Text,
}

/// One column of a table: name, kind, whether it may be null.
#[derive(Clone, Copy, Debug)]
pub(super) struct Column {
    pub(super) name: &'static str,
    pub(super) kind: Kind,
    pub(super) optional: bool,
}

/// A required column.
pub(super) const fn req(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        optional: false,
    }
}

/// An optional (nullable) column.
pub(super) const fn opt(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        optional: true,
    }
}

/// A table: its directory name and columns.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) name: &'static str,
    pub(super) columns: &'static [Column],
}

impl Table {
    /// The Parquet schema, in the message-type syntax `parquet` parses.
    fn schema(&self) -> Result<Type, ExportError> {
        let mut text = format!("message {} {{\n", self.name);
        for column in self.columns {
            let repetition = if column.optional {
                "optional"
            } else {
                "required"
            };
            let ty = match column.kind {
                Kind::Time => "int64 {} (TIMESTAMP(MICROS,true))",
                Kind::Int64 => "int64 {}",
                Kind::Int32 => "int32 {}",
                Kind::Bool => "boolean {}",
                Kind::Text => "binary {} (STRING)",
            };
            text.push_str(&format!(
                "  {repetition} {};\n",
                ty.replace("{}", column.name)
            ));
        }
        text.push('}');
        parquet::schema::parser::parse_message_type(&text).map_err(ExportError::parquet)
    }
}

#[derive(Debug)]
enum Values {
    Int64(Vec<i64>),
    Int32(Vec<i32>),
    Bool(Vec<bool>),
    /// Every value's bytes one after the other, and where each ends: no allocation per cell.
    Text {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
}

/// The buffered values of one column (nulls are only definition levels).
#[derive(Debug)]
struct Buffer {
    values: Values,
    defs: Vec<i16>,
}

/// Rows of one table being built, cell by cell in column order.
#[derive(Debug)]
pub(super) struct Rows {
    table: &'static Table,
    buffers: Vec<Buffer>,
    /// The column the next cell goes to.
    at: usize,
    len: usize,
}

impl Rows {
    pub(super) fn new(table: &'static Table) -> Self {
        let buffers = table
            .columns
            .iter()
            .map(|column| Buffer {
                values: match column.kind {
                    Kind::Time | Kind::Int64 => Values::Int64(Vec::new()),
                    Kind::Int32 => Values::Int32(Vec::new()),
                    Kind::Bool => Values::Bool(Vec::new()),
                    Kind::Text => Values::Text {
                        data: Vec::new(),
                        ends: Vec::new(),
                    },
                },
                defs: Vec::new(),
            })
            .collect();
        Self {
            table,
            buffers,
            at: 0,
            len: 0,
        }
    }

    /// Rows complete.
    pub(super) const fn len(&self) -> usize {
        self.len
    }

    fn next_buffer(&mut self, present: bool) -> Option<&mut Values> {
        let buffer = self.buffers.get_mut(self.at)?;
        self.at += 1;
        buffer.defs.push(i16::from(present));
        present.then_some(&mut buffer.values)
    }

    /// The next cell: a 64-bit integer or time (nanoseconds).
    pub(super) fn i64(&mut self, value: Option<i64>) -> &mut Self {
        if let (Some(Values::Int64(values)), Some(value)) =
            (self.next_buffer(value.is_some()), value)
        {
            values.push(value);
        }
        self
    }

    /// The next cell: a 32-bit integer.
    pub(super) fn i32(&mut self, value: Option<i32>) -> &mut Self {
        if let (Some(Values::Int32(values)), Some(value)) =
            (self.next_buffer(value.is_some()), value)
        {
            values.push(value);
        }
        self
    }

    /// The next cell: a boolean.
    pub(super) fn bool(&mut self, value: Option<bool>) -> &mut Self {
        if let (Some(Values::Bool(values)), Some(value)) =
            (self.next_buffer(value.is_some()), value)
        {
            values.push(value);
        }
        self
    }

    /// The next cell: text.
    pub(super) fn text(&mut self, value: Option<&str>) -> &mut Self {
        self.display(value)
    }

    /// The next cell: a value's text (`Display`), written straight into the column's buffer.
    pub(super) fn display(&mut self, value: Option<impl core::fmt::Display>) -> &mut Self {
        if let (Some(Values::Text { data, ends }), Some(value)) =
            (self.next_buffer(value.is_some()), value)
        {
            use std::io::Write as _;
            // Writing into a Vec cannot fail.
            let _ = write!(data, "{value}");
            ends.push(data.len());
        }
        self
    }

    /// Ends the row: every column must have had its cell.
    pub(super) fn end(&mut self) {
        debug_assert_eq!(self.at, self.buffers.len(), "table {}", self.table.name);
        self.at = 0;
        self.len += 1;
    }

    /// Writes the rows as one row group and empties the buffers.
    fn write_row_group(
        &mut self,
        writer: &mut SerializedFileWriter<File>,
    ) -> Result<(), ExportError> {
        let mut group = writer.next_row_group().map_err(ExportError::parquet)?;
        let mut buffers = self.buffers.iter_mut();
        while let Some(mut column) = group.next_column().map_err(ExportError::parquet)? {
            let Some(buffer) = buffers.next() else {
                break;
            };
            let defs = Some(&buffer.defs[..]);
            match &mut buffer.values {
                Values::Int64(values) => {
                    column
                        .typed::<Int64Type>()
                        .write_batch(values, defs, None)?;
                    values.clear();
                }
                Values::Int32(values) => {
                    column
                        .typed::<Int32Type>()
                        .write_batch(values, defs, None)?;
                    values.clear();
                }
                Values::Bool(values) => {
                    column.typed::<BoolType>().write_batch(values, defs, None)?;
                    values.clear();
                }
                Values::Text { data, ends } => {
                    // One buffer for the row group's values, each a slice of it.
                    let all = ByteArray::from(core::mem::take(data));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let value = all.slice(start, end - start);
                            start = end;
                            value
                        })
                        .collect();
                    column
                        .typed::<ByteArrayType>()
                        .write_batch(&values, defs, None)?;
                    ends.clear();
                }
            }
            buffer.defs.clear();
            column.close().map_err(ExportError::parquet)?;
        }
        group.close().map_err(ExportError::parquet)?;
        self.len = 0;
        Ok(())
    }
}

impl From<parquet::errors::ParquetError> for ExportError {
    fn from(error: parquet::errors::ParquetError) -> Self {
        Self::parquet(error)
    }
}

/// A row group is written once a partition buffers this many rows.
const ROW_GROUP_ROWS: usize = 64 << 10;
/// Every partition's buffer is written out once this many rows are buffered in all, which bounds
/// memory whatever the number of partitions (days × hubs).
const MAX_BUFFERED_ROWS: usize = 256 << 10;

/// A table's partition: `date=YYYY-MM-DD/hub=ADDR`.
pub(super) type Partition = (String, String);

/// One file being written: its rows not yet in a row group, and the writer (opened at the first
/// row group, under a temporary name).
struct Open {
    rows: Rows,
    writer: Option<(SerializedFileWriter<File>, PathBuf)>,
}

/// Every partition file of an export, by table and partition.
pub(super) struct Dataset {
    dir: PathBuf,
    /// The file name (without `.parquet`) every partition file of this export gets.
    name: String,
    files: HashMap<&'static str, HashMap<Partition, Open>>,
    buffered: usize,
    properties: Arc<WriterProperties>,
    schemas: HashMap<&'static str, Arc<Type>>,
    /// Rows written per table.
    pub(super) rows: HashMap<&'static str, u64>,
}

impl Dataset {
    pub(super) fn new(dir: &Path, name: String) -> Self {
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("dmvpn export {}", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            dir: dir.to_owned(),
            name,
            files: HashMap::new(),
            buffered: 0,
            properties: Arc::new(properties),
            schemas: HashMap::new(),
            rows: HashMap::new(),
        }
    }

    /// Adds a row to `table` in `partition`: `fill` writes its cells. Writes row groups that are
    /// full.
    pub(super) fn push(
        &mut self,
        table: &'static Table,
        partition: &Partition,
        fill: impl FnOnce(&mut Rows),
    ) -> Result<(), ExportError> {
        let files = self.files.entry(table.name).or_default();
        let open = match files.get_mut(partition) {
            Some(open) => open,
            None => files.entry(partition.clone()).or_insert_with(|| Open {
                rows: Rows::new(table),
                writer: None,
            }),
        };
        fill(&mut open.rows);
        open.rows.end();
        let full = open.rows.len() >= ROW_GROUP_ROWS;
        self.buffered += 1;
        *self.rows.entry(table.name).or_default() += 1;
        if full {
            self.flush(table.name, partition)?;
        }
        if self.buffered >= MAX_BUFFERED_ROWS {
            self.flush_all()?;
        }
        Ok(())
    }

    /// Writes every partition's buffered rows.
    fn flush_all(&mut self) -> Result<(), ExportError> {
        let keys: Vec<_> = self
            .files
            .iter()
            .flat_map(|(table, files)| files.keys().map(|partition| (*table, partition.clone())))
            .collect();
        for (table, partition) in keys {
            self.flush(table, &partition)?;
        }
        Ok(())
    }

    fn path(&self, table: &str, (date, hub): &Partition) -> PathBuf {
        self.dir
            .join(table)
            .join(format!("date={date}"))
            .join(format!("hub={hub}"))
    }

    /// Writes a partition's buffered rows as a row group.
    fn flush(&mut self, table: &'static str, partition: &Partition) -> Result<(), ExportError> {
        let dir = self.path(table, partition);
        let Some(open) = self
            .files
            .get_mut(table)
            .and_then(|files| files.get_mut(partition))
        else {
            return Ok(());
        };
        if open.rows.len() == 0 {
            return Ok(());
        }
        if open.writer.is_none() {
            std::fs::create_dir_all(&dir).map_err(|source| ExportError::Write {
                path: dir.clone(),
                source,
            })?;
            let temp = dir.join(format!(".{}.parquet.tmp-{}", self.name, std::process::id()));
            let file = File::create(&temp).map_err(|source| ExportError::Write {
                path: temp.clone(),
                source,
            })?;
            let schema = match self.schemas.get(table) {
                Some(schema) => Arc::clone(schema),
                None => {
                    let schema = Arc::new(open.rows.table.schema()?);
                    self.schemas.insert(table, Arc::clone(&schema));
                    schema
                }
            };
            let writer = SerializedFileWriter::new(file, schema, Arc::clone(&self.properties))
                .map_err(|error| file_error(&temp, &error))?;
            open.writer = Some((writer, temp));
        }
        self.buffered -= open.rows.len();
        if let Some((writer, temp)) = &mut open.writer {
            open.rows
                .write_row_group(writer)
                .map_err(|error| file_error(temp, &error))?;
        }
        Ok(())
    }

    /// Writes everything, renames each file into place (`NAME.parquet`, replacing an earlier
    /// export of the same inputs), and removes files of that name left in partitions this export
    /// no longer has. Returns the files written.
    pub(super) fn finish(mut self) -> Result<Vec<PathBuf>, ExportError> {
        self.flush_all()?;
        let final_name = format!("{}.parquet", self.name);
        let mut written = Vec::new();
        for open in self
            .files
            .drain()
            .flat_map(|(_, files)| files.into_values())
        {
            let Some((writer, temp)) = open.writer else {
                continue;
            };
            writer.close().map_err(|error| file_error(&temp, &error))?;
            let path = temp.with_file_name(&final_name);
            std::fs::rename(&temp, &path).map_err(|source| ExportError::Write {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        for table in [super::rows::FRAMES.name]
            .into_iter()
            .chain(super::rows::SESSION_TABLES.iter().map(|table| table.name))
        {
            remove_stale(&self.dir.join(table), &final_name, &written);
        }
        written.sort();
        Ok(written)
    }
}

/// A Parquet writer's error, with the file it was writing.
fn file_error(path: &Path, error: &dyn std::fmt::Display) -> ExportError {
    ExportError::ParquetFile {
        path: path.to_owned(),
        message: error.to_string(),
    }
}

/// Removes `DIR/date=*/hub=*/NAME` files not in `keep` (an earlier export of the same inputs
/// that put rows in other partitions).
fn remove_stale(dir: &Path, name: &str, keep: &[PathBuf]) {
    let Ok(dates) = std::fs::read_dir(dir) else {
        return;
    };
    for date in dates.filter_map(Result::ok) {
        let Ok(hubs) = std::fs::read_dir(date.path()) else {
            continue;
        };
        for hub in hubs.filter_map(Result::ok) {
            let path = hub.path().join(name);
            if path.is_file() && !keep.contains(&path) {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

impl Drop for Dataset {
    /// An export that stopped early leaves no temporary file behind.
    fn drop(&mut self) {
        for open in self
            .files
            .drain()
            .flat_map(|(_, files)| files.into_values())
        {
            if let Some((writer, temp)) = open.writer {
                drop(writer);
                let _ = std::fs::remove_file(temp);
            }
        }
    }
}
