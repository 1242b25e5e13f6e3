//! `dmvpn completions` and `dmvpn man`: the command line as shells and `man` read it.

use std::io::{self, Write};
use std::path::Path;

use super::args::Cli;
use super::exit::Failure;

/// `dmvpn completions SHELL`.
pub(crate) fn completions(shell: clap_complete::Shell) -> Result<(), Failure> {
    use clap::CommandFactory;
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "dmvpn", &mut out);
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(&out)
        .and_then(|()| stdout.flush())
        .map_err(Failure::stdout)
}

/// `dmvpn man [--dir DIR]`: dmvpn.1 (with the exit status and examples) and dmvpn-CMD.1.
pub(crate) fn man_pages(dir: Option<&Path>) -> Result<(), Failure> {
    use clap::CommandFactory;
    let command = Cli::command().version(env!("CARGO_PKG_VERSION"));
    let render = |command: clap::Command| {
        let mut page = Vec::new();
        clap_mangen::Man::new(command)
            .render(&mut page)
            .map(|()| page)
            .map_err(|error| Failure::other(format!("man page: {error}")))
    };
    let Some(dir) = dir else {
        let page = render(command)?;
        let mut stdout = io::stdout().lock();
        return stdout
            .write_all(&page)
            .and_then(|()| stdout.flush())
            .map_err(Failure::stdout);
    };
    let write = |name: &str, page: &[u8]| {
        let path = dir.join(name);
        std::fs::write(&path, page)
            .map_err(|error| Failure::other(format!("{}: cannot write: {error}", path.display())))
    };
    std::fs::create_dir_all(dir)
        .map_err(|error| Failure::other(format!("{}: cannot create: {error}", dir.display())))?;
    let mut names = vec!["dmvpn.1".to_owned()];
    write("dmvpn.1", &render(command.clone())?)?;
    for sub in command.get_subcommands() {
        if sub.get_name() == "help" {
            continue;
        }
        let name = format!("dmvpn-{}", sub.get_name());
        // The page is named and titled `dmvpn-decode`, not `decode` (clap wants a static name:
        // a few bytes leaked by a command that exits next).
        let static_name: &'static str = Box::leak(name.clone().into_boxed_str());
        let sub = sub
            .clone()
            .name(static_name)
            .version(env!("CARGO_PKG_VERSION"));
        write(&format!("{name}.1"), &render(sub)?)?;
        names.push(format!("{name}.1"));
    }
    eprintln!("dmvpn: wrote {} in {}", names.join(", "), dir.display());
    Ok(())
}
