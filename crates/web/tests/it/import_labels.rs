//! The UI's translations feed the import's column suggestions in both languages.

use guanxi_core::import::mapping::{Labels, Targets, suggest};
use guanxi_web::i18n::EveryLanguage;

#[test]
fn headers_in_either_language_match_the_translated_labels() {
    let labels = EveryLanguage::default();
    assert_eq!(
        labels.texts("addr-city"),
        ["City".to_string(), "城市".to_string()]
    );
    for def in guanxi_core::areas::registry().all() {
        let targets = Targets::of(def, &[]);
        // Each field's label, in each language, is suggested for that field.
        for t in targets.list.iter().filter(|t| t.field.is_some()) {
            let Some(f) = t.field else { continue };
            if t.path != f.name {
                continue;
            }
            for label in labels.texts(&format!("field-{}-{}", def.name, f.name)) {
                let s = suggest(&targets, std::slice::from_ref(&label), &labels);
                let got = s.columns[0].field.clone();
                // Two fields may share a label (an account's two addresses say "Address" in
                // neither language, but a name may be shared); a label names its field or one
                // with the same label.
                let same = got.as_deref().is_some_and(|g| {
                    g == f.name
                        || labels
                            .texts(&format!("field-{}-{g}", def.name))
                            .contains(&label)
                });
                assert!(
                    same,
                    "{}: “{label}” suggested {got:?}, not {}",
                    def.name, f.name
                );
            }
        }
    }
}
