//! `pharos check ...`, `pharos test rules` and `pharos route test`: what `promtool` and `amtool`
//! do for configuration files, with the same output and exit codes.

use std::process::ExitCode;

use clap::Subcommand;

#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Check prometheus.yml files and the rule files they name (as `promtool check config`).
    Config {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Check rule files (as `promtool check rules`), plus Pharos' lints.
    Rules {
        #[arg(required = true)]
        files: Vec<String>,
        /// Lint mode: `duplicate-rules` (default) or `none`.
        #[arg(long, default_value = "duplicate-rules")]
        lint: String,
        /// Make lint errors exit with status 3.
        #[arg(long = "lint-fatal")]
        lint_fatal: bool,
    },
    /// Check alertmanager.yml files (as `amtool check-config`).
    Alertmanager {
        #[arg(required = true)]
        files: Vec<String>,
    },
    /// Check SLO files and print the rules Pharos generates from them.
    Slos {
        #[arg(required = true)]
        files: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum TestCommand {
    /// Run rule unit-test files (as `promtool test rules`).
    Rules {
        #[arg(required = true)]
        files: Vec<String>,
        /// Only run test groups whose name matches this regex (repeatable).
        #[arg(long)]
        run: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Print the receivers a label set is routed to (as `amtool config routes test`).
    Test {
        /// alertmanager.yml to read.
        #[arg(long = "config.file", default_value = "alertmanager.yml")]
        config_file: String,
        /// Labels as `name=value`.
        labels: Vec<String>,
    },
}

fn exit(code: i32) -> ExitCode {
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn report(stdout: &str, stderr: &str, code: i32) -> ExitCode {
    print!("{stdout}");
    eprint!("{stderr}");
    exit(code)
}

pub fn check(cmd: CheckCommand) -> ExitCode {
    match cmd {
        CheckCommand::Config { files } => check_config(&files),
        CheckCommand::Rules { files, lint, lint_fatal } => {
            let opts = rules::check::CheckOptions {
                lint_duplicates: lint != "none",
                lint_fatal,
                pharos_lints: true,
            };
            let r = rules::check::check_files_with(&files, &opts);
            report(&r.stdout, &r.stderr, r.exit_code)
        }
        CheckCommand::Alertmanager { files } => check_alertmanager(&files),
        CheckCommand::Slos { files } => check_slos(&files),
    }
}

fn check_config(files: &[String]) -> ExitCode {
    let mut code = 0;
    for f in files {
        println!("Checking {f}");
        // As promtool, every static and file_sd target must also survive its job's relabeling.
        let checked = config::check(f).map_err(|e| e.to_string()).and_then(|rule_files| {
            let cfg = config::load(f).map_err(|e| e.to_string())?;
            scrape::check_config_targets(&cfg).map(|()| rule_files)
        });
        match checked {
            Ok(rule_files) => {
                println!("  SUCCESS: {} rule files found", rule_files.len());
                println!(" SUCCESS: {f} is valid prometheus config file syntax");
                println!();
                if !rule_files.is_empty() {
                    let r = rules::check::check_files(&rule_files);
                    print!("{}", r.stdout);
                    eprint!("{}", r.stderr);
                    code = code.max(r.exit_code);
                }
            }
            Err(e) => {
                eprintln!("  FAILED: {e}");
                println!();
                code = 1;
            }
        }
    }
    exit(code)
}

fn check_alertmanager(files: &[String]) -> ExitCode {
    let mut code = 0;
    for f in files {
        match alertmanager::check::check_config_file(f) {
            Ok(summary) => print!("{}", summary.render(f)),
            Err(e) => {
                println!("Checking '{f}'  FAILED: {e}");
                code = 1;
            }
        }
        println!();
    }
    exit(code)
}

fn check_slos(files: &[String]) -> ExitCode {
    let mut code = 0;
    for f in files {
        let parsed = std::fs::read_to_string(f)
            .map_err(|e| format!("{f}: {e}"))
            .and_then(|text| slo::parse(&text, f).map_err(|e| e.to_string()));
        match parsed {
            Ok(slos) => {
                eprintln!("Checking {f}\n  SUCCESS: {} slos found; generated rules:", slos.len());
                print!("{}", slo::to_yaml(&slo::generate(&slos)));
            }
            Err(e) => {
                eprintln!("Checking {f}\n  FAILED: {e}");
                code = 1;
            }
        }
    }
    exit(code)
}

pub fn test(cmd: TestCommand) -> ExitCode {
    match cmd {
        TestCommand::Rules { files, run } => {
            let r = rules::unittest::run_with(&files, &rules::unittest::UnitTestOptions { run });
            report(&r.stdout, &r.stderr, r.exit_code)
        }
    }
}

pub fn route(cmd: RouteCommand) -> ExitCode {
    match cmd {
        RouteCommand::Test { config_file, labels } => {
            let result = alertmanager::Config::load_file(&config_file).and_then(|cfg| {
                let labels = alertmanager::check::parse_label_args(&labels)?;
                alertmanager::check::route_test(&cfg, &labels)
            });
            match result {
                Ok(receivers) => {
                    println!("{}", alertmanager::check::render_route_test(&receivers));
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    eprintln!("pharos route test: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
