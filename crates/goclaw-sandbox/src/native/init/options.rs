//! The init's command line: parsing and producing it, so host and init agree on one format.

/// How strictly a protection is required.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Enforcement {
    /// Fail (exit 125) when it cannot be applied.
    #[default]
    Require,
    /// Apply when the kernel supports it; continue otherwise.
    BestEffort,
    /// Do not apply.
    Off,
}

impl Enforcement {
    fn as_str(self) -> &'static str {
        match self {
            Self::Require => "require",
            Self::BestEffort => "best-effort",
            Self::Off => "off",
        }
    }

    fn parse(value: &str) -> Result<Self, String> {
        match value {
            "require" => Ok(Self::Require),
            "best-effort" => Ok(Self::BestEffort),
            "off" => Ok(Self::Off),
            other => Err(format!("unknown enforcement {other:?}")),
        }
    }
}

/// Options of `enter`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnterOptions {
    /// `cgroup.procs` files to write our pid to.
    pub procs: Vec<String>,
    /// The program to exec afterwards, with its arguments.
    pub argv: Vec<String>,
}

impl EnterOptions {
    /// The arguments after `enter`.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        for file in &self.procs {
            args.push("--procs".to_owned());
            args.push(file.clone());
        }
        args.push("--".to_owned());
        args.extend(self.argv.iter().cloned());
        args
    }

    /// Parses the arguments after `enter`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--procs" => options.procs.push(value(&mut it, arg)?.to_owned()),
                "--" => {
                    options.argv = it.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if options.argv.is_empty() {
            return Err("no program after --".to_owned());
        }
        Ok(options)
    }
}

/// Options of `inner`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InnerOptions {
    /// Directories where everything but executing is allowed (Landlock).
    pub rw: Vec<String>,
    /// Directories where existing files may be written, nothing created (`/dev`).
    pub rw_files: Vec<String>,
    /// Directories from which nothing may be executed.
    pub noexec: Vec<String>,
    pub landlock: Enforcement,
    pub seccomp: Enforcement,
    /// `RLIMIT_AS` in bytes.
    pub rlimit_as: Option<u64>,
    /// `RLIMIT_NPROC`.
    pub rlimit_nproc: Option<u64>,
    /// `RLIMIT_CPU` in seconds.
    pub rlimit_cpu: Option<u64>,
    /// The command.
    pub argv: Vec<String>,
}

impl InnerOptions {
    /// The arguments after `inner`.
    pub fn to_args(&self) -> Vec<String> {
        let mut args = Vec::new();
        let mut push = |flag: &str, value: String| {
            args.push(flag.to_owned());
            args.push(value);
        };
        for path in &self.rw {
            push("--rw", path.clone());
        }
        for path in &self.rw_files {
            push("--rw-files", path.clone());
        }
        for path in &self.noexec {
            push("--noexec", path.clone());
        }
        push("--landlock", self.landlock.as_str().to_owned());
        push("--seccomp", self.seccomp.as_str().to_owned());
        if let Some(limit) = self.rlimit_as {
            push("--rlimit-as", limit.to_string());
        }
        if let Some(limit) = self.rlimit_nproc {
            push("--rlimit-nproc", limit.to_string());
        }
        if let Some(limit) = self.rlimit_cpu {
            push("--rlimit-cpu", limit.to_string());
        }
        args.push("--".to_owned());
        args.extend(self.argv.iter().cloned());
        args
    }

    /// Parses the arguments after `inner`.
    pub fn parse(args: &[String]) -> Result<Self, String> {
        let mut options = Self::default();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            match arg.as_str() {
                "--rw" => options.rw.push(value(&mut it, arg)?.to_owned()),
                "--rw-files" => options.rw_files.push(value(&mut it, arg)?.to_owned()),
                "--noexec" => options.noexec.push(value(&mut it, arg)?.to_owned()),
                "--landlock" => options.landlock = Enforcement::parse(value(&mut it, arg)?)?,
                "--seccomp" => options.seccomp = Enforcement::parse(value(&mut it, arg)?)?,
                "--rlimit-as" => options.rlimit_as = Some(number(&mut it, arg)?),
                "--rlimit-nproc" => options.rlimit_nproc = Some(number(&mut it, arg)?),
                "--rlimit-cpu" => options.rlimit_cpu = Some(number(&mut it, arg)?),
                "--" => {
                    options.argv = it.cloned().collect();
                    break;
                }
                other => return Err(format!("unknown option {other:?}")),
            }
        }
        if options.argv.is_empty() {
            return Err("no command after --".to_owned());
        }
        Ok(options)
    }
}

fn value<'a>(it: &mut std::slice::Iter<'a, String>, flag: &str) -> Result<&'a str, String> {
    it.next()
        .map(String::as_str)
        .ok_or_else(|| format!("{flag} needs a value"))
}

fn number(it: &mut std::slice::Iter<'_, String>, flag: &str) -> Result<u64, String> {
    let raw = value(it, flag)?;
    raw.parse()
        .map_err(|_| format!("{flag} needs a number, not {raw:?}"))
}
