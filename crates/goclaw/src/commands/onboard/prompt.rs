//! The questions `goclaw onboard` asks, behind [`Prompter`] so the logic is tested with
//! scripted answers: dialoguer refuses to prompt when standard input is not a terminal, so the
//! real prompts cannot be driven from a pipe.

use anyhow::Context;

/// The answers onboarding needs; each starts from flags and the environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answers {
    /// `None` for the embedded SQLite database.
    pub postgres_dsn: Option<String>,
    pub provider: Option<String>,
    pub api_key: Option<String>,
    pub host: String,
}

/// Asks one question at a time.
pub trait Prompter {
    /// The index of the chosen item.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize>;
    /// A line of text; `default` when the answer is empty.
    fn input(&mut self, prompt: &str, default: &str) -> anyhow::Result<String>;
    /// A hidden line; may be empty.
    fn password(&mut self, prompt: &str) -> anyhow::Result<String>;
}

/// The DSN proposed when PostgreSQL is chosen and none is known.
pub const DEFAULT_DSN: &str = "postgres://postgres@localhost:5432/goclaw?sslmode=disable";

/// Walks through the questions, proposing what is already known.
pub fn ask(
    prompter: &mut dyn Prompter,
    known: Answers,
    providers: &[&str],
) -> anyhow::Result<Answers> {
    let databases = [
        "SQLite (embedded, no server needed)".to_owned(),
        "PostgreSQL 15+ with pgvector (recommended for production)".to_owned(),
    ];
    let default_db = usize::from(known.postgres_dsn.is_some());
    let postgres_dsn = match prompter.select("Database", &databases, default_db)? {
        0 => None,
        _ => {
            let proposed = known.postgres_dsn.as_deref().unwrap_or(DEFAULT_DSN);
            Some(prompter.input("PostgreSQL DSN", proposed)?)
        }
    };

    let mut choices = vec!["none (configure later)".to_owned()];
    choices.extend(providers.iter().map(|p| (*p).to_owned()));
    let default_provider = known
        .provider
        .as_deref()
        .and_then(|p| providers.iter().position(|q| *q == p))
        .map_or(0, |i| i + 1);
    let (provider, api_key) = match prompter.select("LLM provider", &choices, default_provider)? {
        0 => (None, None),
        i => {
            let name = providers
                .get(i - 1)
                .context("no such provider")?
                .to_string();
            let same = known.provider.as_deref() == Some(name.as_str());
            let known_key = known.api_key.clone().filter(|_| same);
            let hint = if known_key.is_some() {
                " (empty keeps the current one)"
            } else {
                " (empty to skip)"
            };
            let typed = prompter.password(&format!("{name} API key{hint}"))?;
            let key = Some(typed.trim().to_owned())
                .filter(|k| !k.is_empty())
                .or(known_key);
            (Some(name), key)
        }
    };

    let host = prompter.input("Bind address (127.0.0.1 = this machine only)", &known.host)?;
    Ok(Answers {
        postgres_dsn,
        provider,
        api_key,
        host: host.trim().to_owned(),
    })
}

/// The real prompts, on the terminal.
pub struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> anyhow::Result<usize> {
        Ok(dialoguer::Select::new()
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()?)
    }

    fn input(&mut self, prompt: &str, default: &str) -> anyhow::Result<String> {
        Ok(dialoguer::Input::<String>::new()
            .with_prompt(prompt)
            .default(default.to_owned())
            .interact_text()?)
    }

    fn password(&mut self, prompt: &str) -> anyhow::Result<String> {
        Ok(dialoguer::Password::new()
            .with_prompt(prompt)
            .allow_empty_password(true)
            .interact()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Answers given in order; `Select(i)`, `Text("")` takes the default.
    enum Reply {
        Select(usize),
        Text(&'static str),
    }

    struct Script {
        replies: std::vec::IntoIter<Reply>,
        asked: Vec<String>,
    }

    impl Prompter for Script {
        fn select(
            &mut self,
            prompt: &str,
            items: &[String],
            default: usize,
        ) -> anyhow::Result<usize> {
            self.asked.push(format!("{prompt} [{}]", items[default]));
            match self.replies.next() {
                Some(Reply::Select(i)) => Ok(i),
                _ => anyhow::bail!("script: expected a selection for {prompt}"),
            }
        }

        fn input(&mut self, prompt: &str, default: &str) -> anyhow::Result<String> {
            self.asked.push(format!("{prompt} [{default}]"));
            match self.replies.next() {
                Some(Reply::Text("")) => Ok(default.to_owned()),
                Some(Reply::Text(text)) => Ok(text.to_owned()),
                _ => anyhow::bail!("script: expected text for {prompt}"),
            }
        }

        fn password(&mut self, prompt: &str) -> anyhow::Result<String> {
            self.asked.push(prompt.to_owned());
            match self.replies.next() {
                Some(Reply::Text(text)) => Ok(text.to_owned()),
                _ => anyhow::bail!("script: expected a password for {prompt}"),
            }
        }
    }

    fn known() -> Answers {
        Answers {
            postgres_dsn: None,
            provider: None,
            api_key: None,
            host: "127.0.0.1".to_owned(),
        }
    }

    fn check(known: Answers, replies: Vec<Reply>, expected: Answers, expected_asked: &[&str]) {
        let mut script = Script {
            replies: replies.into_iter(),
            asked: Vec::new(),
        };
        let answers = ask(&mut script, known, &["anthropic", "openai"]).expect("script completes");
        assert_eq!(answers, expected);
        assert_eq!(script.asked, expected_asked);
    }

    #[test]
    fn defaults_choose_sqlite_no_provider_and_loopback() {
        use Reply::*;
        check(
            known(),
            vec![Select(0), Select(0), Text("")],
            known(),
            &[
                "Database [SQLite (embedded, no server needed)]",
                "LLM provider [none (configure later)]",
                "Bind address (127.0.0.1 = this machine only) [127.0.0.1]",
            ],
        );
    }

    #[test]
    fn postgres_provider_and_host_are_asked_for() {
        use Reply::*;
        check(
            known(),
            vec![
                Select(1),
                Text(""),
                Select(2),
                Text("sk-typed-key"),
                Text("0.0.0.0"),
            ],
            Answers {
                postgres_dsn: Some(DEFAULT_DSN.to_owned()),
                provider: Some("openai".to_owned()),
                api_key: Some("sk-typed-key".to_owned()),
                host: "0.0.0.0".to_owned(),
            },
            &[
                "Database [SQLite (embedded, no server needed)]",
                &format!("PostgreSQL DSN [{DEFAULT_DSN}]"),
                "LLM provider [none (configure later)]",
                "openai API key (empty to skip)",
                "Bind address (127.0.0.1 = this machine only) [127.0.0.1]",
            ],
        );
    }

    #[test]
    fn known_values_are_proposed_and_kept_on_empty_answers() {
        use Reply::*;
        let known = Answers {
            postgres_dsn: Some("postgres://db/goclaw".to_owned()),
            provider: Some("anthropic".to_owned()),
            api_key: Some("sk-ant-from-env".to_owned()),
            host: "127.0.0.1".to_owned(),
        };
        check(
            known.clone(),
            vec![Select(1), Text(""), Select(1), Text(""), Text("")],
            known,
            &[
                "Database [PostgreSQL 15+ with pgvector (recommended for production)]",
                "PostgreSQL DSN [postgres://db/goclaw]",
                "LLM provider [anthropic]",
                "anthropic API key (empty keeps the current one)",
                "Bind address (127.0.0.1 = this machine only) [127.0.0.1]",
            ],
        );
    }
}
