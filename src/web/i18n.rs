//! The pages' words in Dutch (the default) and English: `templates/web/i18n/{nl,en}.toml`,
//! compiled into the binary. A file has one table per part of the site (`[common]`, `[voter]`,
//! `[chair]`, …); a template asks for `t("voter.cast")`. Both languages hold the same keys (a
//! test checks it), so a page never shows a key instead of words. A `{name}` in a text is
//! filled from the call's keyword arguments: `t("voter.for_member", member=m.name)`.

use std::collections::BTreeMap;
use std::sync::OnceLock;

/// A language of the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    /// Dutch, the language of the statutes and the default.
    #[default]
    Nl,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Nl => "nl",
            Lang::En => "en",
        }
    }

    pub fn parse(code: &str) -> Option<Lang> {
        match code.trim().to_ascii_lowercase().as_str() {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language, for the switch on every page.
    pub fn other(self) -> Lang {
        match self {
            Lang::Nl => Lang::En,
            Lang::En => Lang::Nl,
        }
    }
}

const NL: &str = include_str!("../../templates/web/i18n/nl.toml");
const EN: &str = include_str!("../../templates/web/i18n/en.toml");

/// The texts of one language by `table.key`.
pub type Texts = BTreeMap<String, String>;

/// Reads a catalogue: every table's string values, by `table.key`.
pub fn parse(source: &str) -> Result<Texts, String> {
    let value: toml::Table = source.parse().map_err(|e: toml::de::Error| e.to_string())?;
    let mut texts = Texts::new();
    for (table, entries) in value {
        let toml::Value::Table(entries) = entries else {
            return Err(format!("'{table}' is not a table"));
        };
        for (key, text) in entries {
            let toml::Value::String(text) = text else {
                return Err(format!("'{table}.{key}' is not a string"));
            };
            texts.insert(format!("{table}.{key}"), text);
        }
    }
    Ok(texts)
}

fn catalogues() -> &'static (Texts, Texts) {
    static CATALOGUES: OnceLock<(Texts, Texts)> = OnceLock::new();
    CATALOGUES.get_or_init(|| {
        // A catalogue that does not parse is a defect of the build; the test of the catalogues
        // catches it before release, and the pages then fall back to showing keys.
        let load = |source: &str, name: &str| {
            parse(source).unwrap_or_else(|e| {
                tracing::error!(catalogue = name, error = %e, "a catalogue of the pages does not load");
                Texts::new()
            })
        };
        (load(NL, "nl"), load(EN, "en"))
    })
}

/// The texts of a language.
pub fn texts(lang: Lang) -> &'static Texts {
    let (nl, en) = catalogues();
    match lang {
        Lang::Nl => nl,
        Lang::En => en,
    }
}

/// The text of `key` in `lang`, with `{name}` placeholders filled from `args`; the key itself
/// when the catalogue lacks it (which the test of the catalogues forbids).
pub fn text(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let Some(template) = texts(lang).get(key) else {
        return key.to_owned();
    };
    let mut out = template.clone();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_languages_hold_the_same_keys() {
        let nl = parse(NL).unwrap_or_else(|e| panic!("nl.toml: {e}"));
        let en = parse(EN).unwrap_or_else(|e| panic!("en.toml: {e}"));
        let only_nl: Vec<_> = nl.keys().filter(|k| !en.contains_key(*k)).collect();
        let only_en: Vec<_> = en.keys().filter(|k| !nl.contains_key(*k)).collect();
        assert!(only_nl.is_empty(), "only in nl.toml: {only_nl:?}");
        assert!(only_en.is_empty(), "only in en.toml: {only_en:?}");
        assert!(nl.contains_key("common.sign_in"));
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(text(Lang::En, "no.such.key", &[]), "no.such.key");
        let filled = text(Lang::En, "common.signed_in_as", &[("name", "Ada".into())]);
        assert!(filled.contains("Ada") && !filled.contains("{name}"), "{filled}");
    }
}
