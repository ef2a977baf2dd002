//! The Diagnosi on the public portal, over real HTTP on the demo data: the approved
//! diagnosis has its page with every problem's frequency and seriousness, its policies,
//! strengths, weaknesses and needs, each item an anchor; the pact's page links to the
//! items it responds to, and each link's anchor exists; the home page, the Comuni's pages,
//! the sitemap and the feed name it; a draft diagnosis is a 404 like a missing page and
//! shows nowhere.

use patto_core::ids::OrganisationId;
use patto_engine::{Actor, NewDiagnosis};
use patto_tests::{TestDatabase, on_both_backends};

use crate::portal::{demo_portal, fetch};

on_both_backends!(
    the_approved_diagnosis_has_its_page_and_the_pact_links_to_its_items,
    a_draft_diagnosis_never_appears_on_the_portal,
);

const SLUG: &str = "diagnosi-citta-a-rete-madonie-termini-2025";

/// The `href`s of some markup that point into a diagnosis's page.
fn diagnosis_links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .filter(|href| href.contains("/diagnosi/"))
        .map(|href| href.replace("&#x2f;", "/"))
        .collect()
}

async fn the_approved_diagnosis_has_its_page_and_the_pact_links_to_its_items(
    database: TestDatabase,
) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let version = portal
        .engine
        .readable_diagnosis_version(Actor::Public, SLUG, None)
        .await
        .unwrap();
    let page = fetch(address, &format!("/diagnosi/{SLUG}")).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    let diagnosis = &version.diagnosis;
    assert!(diagnosis.problems.len() >= 5);
    for problem in &diagnosis.problems {
        assert!(
            html.contains(&format!("id=\"{}\"", problem.id)),
            "{}",
            problem.id
        );
        assert!(
            html.contains(&problem.title.replace('\'', "&#x27;")),
            "{}",
            problem.title
        );
        assert!(
            html.contains(&format!("{}/5 — ", problem.seriousness)),
            "the seriousness of {}",
            problem.id
        );
    }
    // A counted problem shows its count and period; the scales are stated.
    let counted = diagnosis
        .problems
        .iter()
        .find(|p| p.frequency.count.is_some())
        .unwrap();
    assert!(html.contains(&format!(
        "{} casi ({})",
        counted.frequency.count.unwrap(),
        counted.frequency.period
    )));
    assert!(html.contains("Molto frequente") && html.contains("gravissima"));
    for item in diagnosis.items() {
        assert!(html.contains(&format!("id=\"{}\"", item.id)), "{}", item.id);
    }
    assert!(html.contains("DATI DIMOSTRATIVI"), "labelled as demo data");
    assert!(html.contains(&version.sha256));
    // The marked place of the consultation's results.
    assert!(html.contains("id=\"diagnosis-consultation\""));
    let english = fetch(address, &format!("/en/diagnosi/{SLUG}")).await.text();
    assert!(english.contains("Perceived seriousness") && english.contains("Very frequent"));

    // The pact's page links to each item it cites, and the anchor exists.
    let pact = fetch(address, "/documenti/patto-sicurezza-legalita")
        .await
        .text();
    let links = diagnosis_links(&pact);
    let cited = portal
        .engine
        .readable_citations(
            Actor::Public,
            portal
                .engine
                .document_by_slug("patto-sicurezza-legalita")
                .await
                .unwrap()
                .id,
        )
        .await
        .unwrap();
    assert_eq!(links.len(), cited.len(), "{links:?}");
    assert!(cited.len() >= 3);
    for (link, item) in links.iter().zip(&cited) {
        assert_eq!(link, &format!("/diagnosi/{SLUG}#{}", item.item.id));
        assert!(pact.contains(&item.item.title.replace('\'', "&#x27;")));
        assert!(html.contains(&format!("id=\"{}\"", item.item.id)));
    }
    assert!(pact.contains("gravità percepita: 5/5"));

    // Linked from home and from every Comune's page (the coalition's diagnosis covers
    // them all); in the sitemap and the feed.
    for path in ["/", "/en", "/comuni/cefalu", "/comuni/gangi"] {
        let body = fetch(address, path).await.text();
        assert!(
            diagnosis_links(&body)
                .iter()
                .any(|l| l.ends_with(&format!("/diagnosi/{SLUG}"))),
            "{path} does not link the diagnosis"
        );
    }
    let sitemap = fetch(address, "/sitemap.xml").await.text();
    assert!(sitemap.contains(&format!("/diagnosi/{SLUG}</loc>")));
    let feed = fetch(address, "/feed.atom").await.text();
    assert!(feed.contains(&format!("/diagnosi/{SLUG}\"")));
    // Another document's slug has no diagnosis page.
    let pact_as_diagnosis = fetch(address, "/diagnosi/patto-sicurezza-legalita").await;
    assert_eq!(pact_as_diagnosis.status, 404);
}

async fn a_draft_diagnosis_never_appears_on_the_portal(database: TestDatabase) {
    let portal = demo_portal(database).await;
    let address = portal.address;
    let cefalu: OrganisationId = portal
        .engine
        .organisation_by_slug("cefalu")
        .await
        .unwrap()
        .id;
    let draft = portal
        .engine
        .create_diagnosis(
            Actor::System,
            NewDiagnosis {
                organisation_id: cefalu,
                year: 2026,
                working_group_id: None,
            },
        )
        .await
        .unwrap();
    let missing = fetch(address, "/diagnosi/diagnosi-cefalu-1999").await;
    let answer = fetch(address, &format!("/diagnosi/{}", draft.slug)).await;
    assert_eq!(answer.status, 404);
    assert_eq!(
        answer.text().replace(&draft.slug, "SLUG"),
        missing.text().replace("diagnosi-cefalu-1999", "SLUG"),
        "a draft's page differs from a missing one"
    );
    for path in ["/", "/comuni/cefalu", "/sitemap.xml", "/feed.atom"] {
        let body = fetch(address, path).await.text();
        assert!(!body.contains(&draft.slug), "{path} names the draft");
    }
}
