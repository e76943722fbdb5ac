//! The `tdm-workbench` binary: all work happens in the library.
fn main() -> std::process::ExitCode {
    tdm_workbench::cli::main()
}
