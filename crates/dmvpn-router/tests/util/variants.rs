//! The tutorial's broken variants as `testdata/router/tutorial/broken/expected.txt` lists
//! them, read the same way by the `check` unit tests and the command's tests.

/// One line of `expected.txt`: a variant of a tutorial router and the one finding it gives.
pub(crate) struct Variant<'a> {
    /// The variant's file name (`wrong-psk.R2.cfg`).
    pub(crate) file: &'a str,
    /// The finding's rule.
    pub(crate) id: &'a str,
    /// `error` or `warning`.
    pub(crate) severity: &'a str,
    /// The tutorial file it stands in for (`R2.cfg`).
    pub(crate) replaces: String,
}

/// The variants `expected` lists (comments and blank lines skipped); a malformed line panics.
pub(crate) fn parse(expected: &str) -> Vec<Variant<'_>> {
    expected
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [file, id, severity] = fields[..] else {
                panic!("bad line {line:?}");
            };
            let router = file.rsplit('.').nth(1);
            let replaces = format!("{}.cfg", router.unwrap_or_else(|| panic!("{file:?}")));
            Variant {
                file,
                id,
                severity,
                replaces,
            }
        })
        .collect()
}
