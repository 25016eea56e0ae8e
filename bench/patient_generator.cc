#include "patient_generator.h"

#include <fmt/format.h>

#include <array>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <cstdlib>
#include <random>

#include "core/french_ids.h"
#include "crypto/normalize.h"

namespace medvault::bench {
namespace {

namespace json = boost::json;

// Frequent French family names (INSEE lists), with their accents, apostrophes, particles,
// ligatures and a few short ones that can only be searched whole.
constexpr auto kFamilyNames = std::to_array<std::string_view>({
    "Martin",     "Bernard",   "Thomas",       "Petit",       "Robert",     "Richard",
    "Durand",     "Dubois",    "Moreau",       "Laurent",     "Simon",      "Michel",
    "Lefèbvre",   "Leroy",     "Roux",         "David",       "Bertrand",   "Morel",
    "Fournier",   "Girard",    "Bonnet",       "Dupont",      "Lambert",    "Fontaine",
    "Rousseau",   "Vincent",   "Muller",       "Lefèvre",     "Faure",      "André",
    "Mercier",    "Blanc",     "Guérin",       "Boyer",       "Garnier",    "Chevalier",
    "François",   "Legrand",   "Gauthier",     "Garcia",      "Perrin",     "Robin",
    "Clément",    "Morin",     "Nicolas",      "Henry",       "Roussel",    "Mathieu",
    "Gautier",    "Masson",    "Marchand",     "Duval",       "Denis",      "Dumont",
    "Marie",      "Lemaire",   "Noël",         "Meyer",       "Dufour",     "Meunier",
    "Brun",       "Blanchard", "Giraud",       "Joly",        "Rivière",    "Lucas",
    "Brunet",     "Gaillard",  "Barbier",      "Arnaud",      "Martinez",   "Gérard",
    "Roche",      "Renard",    "Schmitt",      "Roy",         "Leroux",     "Colin",
    "Vidal",      "Caron",     "Picard",       "Roger",       "Fabre",      "Aubert",
    "Lemoine",    "Renaud",    "Dumas",        "Lacroix",     "Olivier",    "Philippe",
    "Bourgeois",  "Pierre",    "Benoît",       "Rey",         "Leclerc",    "Payet",
    "Rolland",    "Leclercq",  "Guillaume",    "Lecomte",     "Lopez",      "Jean",
    "Dupuy",      "Guillot",   "Hubert",       "Berger",      "Carpentier", "Sanchez",
    "Dupuis",     "Moulin",    "Louis",        "Deschamps",   "Huet",       "Vasseur",
    "Perez",      "Boucher",   "Fleury",       "Royer",       "Klein",      "Jacquet",
    "Adam",       "Paris",     "Poirier",      "Marty",       "Aubry",      "Guyot",
    "Carré",      "Charles",   "Renault",      "Charpentier", "Ménard",     "Maillard",
    "Baron",      "Bertin",    "Bailly",       "Hervé",       "Schneider",  "Fernandez",
    "Le Gall",    "Collet",    "Léger",        "Bouvier",     "Julien",     "Prévost",
    "Millet",     "Perrot",    "Daniel",       "Le Roux",     "Cousin",     "Germain",
    "Breton",     "Besson",    "Langlois",     "Rémy",        "Le Goff",    "Pelletier",
    "Lévêque",    "Perrier",   "Leblanc",      "Barré",       "Lebrun",     "Marchal",
    "Weber",      "Mallet",    "Hamon",        "Boulanger",   "Jacob",      "Monnier",
    "Michaud",    "Rodriguez", "Guichard",     "Gillet",      "Étienne",    "Grondin",
    "Poulain",    "Tessier",   "Chevallier",   "Collin",      "Chauvin",    "Da Silva",
    "Bouchet",    "Gay",       "Lemaître",     "Bénard",      "Maréchal",   "Humbert",
    "Reynaud",    "Antoine",   "Hoarau",       "Perret",      "Barthélemy", "Cordier",
    "Pichon",     "Lejeune",   "Gilbert",      "Lamy",        "Delaunay",   "Pasquier",
    "Carlier",    "Laporte",   "Gomez",        "Hoareau",     "Navarro",    "Bouchard",
    "Texier",     "Marechal",  "Rocher",       "Guillon",     "Buisson",    "Lebon",
    "Riviere",    "Devaux",    "Lagarde",      "Maillot",     "Gros",       "Laine",
    "Verdier",    "Hebert",    "Bigot",        "Labbé",       "Rousset",    "Lacoste",
    "Moulinier",  "Courtois",  "Fabré",        "Pineau",      "Hardy",      "Gallet",
    "Descamps",   "Lefort",    "Fontanel",     "Tanguy",      "Camus",      "Salmon",
    "Gaudin",     "Maury",     "Leduc",        "Jourdan",     "Bérenger",   "Guérard",
    "Vallée",     "Chauvet",   "Bousquet",     "Cordonnier",  "Lebreton",   "Ollivier",
    "Thibault",   "Thébault",  "Bégué",        "Guilbert",    "Boutin",     "Charrier",
    "N'Diaye",    "D'Almeida", "D'Angelo",     "L'Hôte",      "Lecœur",     "Cœurdacier",
    "Lebœuf",     "Desbœufs",  "Saint-Martin", "Saint-Jean",  "Dupré",      "Després",
    "Lefrançois", "Françoise", "Ferré",        "Péron",       "Hénaff",     "Kerjean",
    "Le Bihan",   "Le Corre",  "Le Floch",     "Le Guen",     "Le Meur",    "Guégan",
    "Ly",         "Vu",        "Ng",           "Wu",          "Bâ",         "Sy",
    "Nguyen",     "Tran",      "Pham",         "Benali",      "Haddad",     "Mansouri",
    "Bensaïd",    "Chérif",    "Boukhari",     "Amrani",      "Cissé",      "Traoré",
    "Diallo",     "Koné",      "Camara",       "Sissoko",     "Ferreira",   "Pereira",
    "Rodrigues",  "Gonçalves", "Santos",       "Oliveira",    "Silva",      "Costa",
    "Rossi",      "Russo",     "Esposito",     "Bianchi",     "Romano",     "Colombo",
    "Müller",     "Schäfer",   "Kœnig",        "Wagner",      "Becker",     "Hoffmann",
    "Øberg",      "Łukasik",   "Dvořák",       "Novák",       "Kowalski",   "Wiśniewski",
    "Straße",     "Ibáñez",    "Peña",         "Núñez",       "Jiménez",    "Álvarez",
});

// Given names, female first (index < kFemaleGiven), then male.
constexpr std::size_t kFemaleGiven = 110;
constexpr auto kGivenNames = std::to_array<std::string_view>({
    "Marie",     "Jeanne",     "Françoise",   "Monique",      "Catherine",   "Nathalie",
    "Isabelle",  "Jacqueline", "Anne",        "Sylvie",       "Martine",     "Madeleine",
    "Nicole",    "Suzanne",    "Hélène",      "Christine",    "Marguerite",  "Denise",
    "Louise",    "Christiane", "Yvonne",      "Valérie",      "Sophie",      "Stéphanie",
    "Sandrine",  "Céline",     "Véronique",   "Chantal",      "Élodie",      "Aurélie",
    "Julie",     "Émilie",     "Camille",     "Laure",        "Cécile",      "Brigitte",
    "Josiane",   "Geneviève",  "Thérèse",     "Colette",      "Odette",      "Agnès",
    "Mireille",  "Danielle",   "Michèle",     "Renée",        "Andrée",      "Simone",
    "Germaine",  "Paulette",   "Léa",         "Chloé",        "Zoé",         "Inès",
    "Maëlys",    "Noémie",     "Anaïs",       "Clémence",     "Océane",      "Mélanie",
    "Manon",     "Emma",       "Jade",        "Lina",         "Mila",        "Alice",
    "Rose",      "Ambre",      "Anna",        "Lou",          "Léonie",      "Agathe",
    "Héloïse",   "Bérénice",   "Joséphine",   "Mathilde",     "Éloïse",      "Capucine",
    "Gaëlle",    "Maëlle",     "Solène",      "Loïse",        "Aimée",       "Pénélope",
    "Lætitia",   "Zoë",        "Noëlle",      "Marie-Claire", "Anne-Sophie", "Marie-Hélène",
    "Rosalie",   "Salomé",     "Victoire",    "Apolline",     "Margaux",     "Eugénie",
    "Fatoumata", "Aïcha",      "Yasmine",     "Leïla",        "Nadège",      "Ginette",
    "Edwige",    "Ségolène",   "Bénédicte",   "Perrine",      "Jean",        "Pierre",
    "Michel",    "André",      "Philippe",    "René",         "Louis",       "Alain",
    "Jacques",   "Bernard",    "Marcel",      "Daniel",       "Roger",       "Robert",
    "Paul",      "Claude",     "Christian",   "Henri",        "Georges",     "Nicolas",
    "François",  "Patrick",    "Gérard",      "Christophe",   "Joseph",      "Julien",
    "Maurice",   "Laurent",    "Frédéric",    "Éric",         "Stéphane",    "David",
    "Pascal",    "Sébastien",  "Raymond",     "Thierry",      "Guy",         "Lucien",
    "Yves",      "Olivier",    "Jean-Pierre", "Jean-Claude",  "Jean-Luc",    "Jean-François",
    "Benoît",    "Jérôme",     "Hervé",       "Noël",         "Loïc",        "Joël",
    "Raphaël",   "Mathéo",     "Théo",        "Timothée",     "Maël",        "Gaël",
    "Léo",       "Gabriel",    "Arthur",      "Jules",        "Hugo",        "Lucas",
    "Adam",      "Mohamed",    "Noah",        "Sacha",        "Éthan",       "Aurélien",
    "Célestin",  "Anatole",    "Côme",        "Honoré",       "Félix",       "Émile",
    "Clément",   "Valentin",   "Maxime",      "Antoine",      "Baptiste",    "Quentin",
    "Kévin",     "Jérémy",     "Grégory",     "Cédric",       "Ludovic",     "Rémi",
    "Médéric",   "Aimé",       "Armand",      "Désiré",       "Fernand",     "Gaston",
    "Léon",      "Marius",     "Octave",      "Siméon",       "Zéphyr",      "Amédée",
    "Ibrahim",   "Mamadou",    "Youssef",     "Karim",        "Thanh",       "Minh",
    "Ly",        "Ange",       "Dominique",   "Camille",      "Yannick",     "Loup",
    "Édouard",   "Barthélémy", "Bastien",     "Romain",
});
static_assert(kFemaleGiven < kGivenNames.size());

// A place of birth and of residence: the NIR's department (2 characters, or 3 overseas) and
// a commune code that completes it to 5 characters, and a city with its postal code.
struct Place {
  std::string_view department;
  std::string_view city;
  std::string_view postal_code;
};

constexpr auto kPlaces = std::to_array<Place>({
    {"75", "Paris", "75011"},         {"13", "Marseille", "13005"},
    {"69", "Lyon", "69003"},          {"31", "Toulouse", "31000"},
    {"06", "Nice", "06000"},          {"44", "Nantes", "44000"},
    {"67", "Strasbourg", "67000"},    {"34", "Montpellier", "34000"},
    {"33", "Bordeaux", "33000"},      {"59", "Lille", "59000"},
    {"35", "Rennes", "35000"},        {"51", "Reims", "51100"},
    {"42", "Saint-Étienne", "42000"}, {"76", "Le Havre", "76600"},
    {"83", "Toulon", "83000"},        {"38", "Grenoble", "38000"},
    {"21", "Dijon", "21000"},         {"49", "Angers", "49000"},
    {"30", "Nîmes", "30000"},         {"13", "Aix-en-Provence", "13100"},
    {"29", "Brest", "29200"},         {"87", "Limoges", "87000"},
    {"37", "Tours", "37000"},         {"80", "Amiens", "80000"},
    {"66", "Perpignan", "66000"},     {"57", "Metz", "57000"},
    {"25", "Besançon", "25000"},      {"45", "Orléans", "45000"},
    {"76", "Rouen", "76000"},         {"14", "Caen", "14000"},
    {"2A", "Ajaccio", "20000"},       {"2B", "Bastia", "20200"},
    {"974", "Saint-Denis", "97400"},  {"972", "Fort-de-France", "97200"},
});

// INSEE country codes for people born abroad (department 99).
constexpr auto kCountries =
    std::to_array<std::string_view>({"350", "352", "351", "109", "134", "139", "127", "243"});

constexpr auto kStreets = std::to_array<std::string_view>({
    "rue de la République",
    "avenue Jean Jaurès",
    "rue Victor Hugo",
    "boulevard Gambetta",
    "place de l'Église",
    "rue du Général Leclerc",
    "chemin des Écoliers",
    "allée des Châtaigniers",
    "rue Émile Zola",
    "impasse des Lilas",
    "quai de la Loire",
    "rue Pasteur",
    "avenue de la Gare",
    "rue des Frères Lumière",
});

constexpr auto kMailDomains = std::to_array<std::string_view>(
    {"orange.fr", "free.fr", "gmail.com", "laposte.net", "sfr.fr", "wanadoo.fr", "yahoo.fr"});

// splitmix64: a good 64-bit mix, so that (seed, n) seeds unrelated streams.
std::uint64_t Mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

template <typename T, std::size_t N>
const T& Pick(std::mt19937_64& random, const std::array<T, N>& items) {
  return items[std::uniform_int_distribution<std::size_t>(0, N - 1)(random)];
}

int Between(std::mt19937_64& random, int low, int high) {
  return std::uniform_int_distribution<int>(low, high)(random);
}

// "Jean-Pierre Le Gall" -> "jean-pierre.le-gall": the project's own name normalization
// (accents and case folded) with spaces turned into hyphens, as mail providers do.
std::string MailPart(std::string_view name) {
  auto normalized = crypto::Normalize(crypto::ValueKind::kName, name);
  if (!normalized) std::abort();  // every listed name normalizes
  for (char& c : *normalized) {
    if (c == ' ') c = '-';
  }
  return std::move(*normalized);
}

bool IsLeapYear(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int DaysIn(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

}  // namespace

std::string PatientGenerator::PatientId(std::uint64_t n) { return fmt::format("p{:07}", n); }

std::span<const std::string_view> PatientGenerator::FamilyNames() { return kFamilyNames; }
std::span<const std::string_view> PatientGenerator::GivenNames() { return kGivenNames; }

GeneratedPatient PatientGenerator::Make(std::uint64_t n, std::string id) const {
  std::mt19937_64 random(Mix(seed_ ^ Mix(n)));

  const bool female = Between(random, 0, 1) == 1;
  const std::size_t first_given =
      female ? std::uniform_int_distribution<std::size_t>(0, kFemaleGiven - 1)(random)
             : std::uniform_int_distribution<std::size_t>(kFemaleGiven,
                                                          kGivenNames.size() - 1)(random);
  json::array given{json::string(kGivenNames[first_given])};
  if (Between(random, 0, 2) == 0) {  // a third of patients have a second given name
    const std::size_t second =
        female ? std::uniform_int_distribution<std::size_t>(0, kFemaleGiven - 1)(random)
               : std::uniform_int_distribution<std::size_t>(kFemaleGiven,
                                                            kGivenNames.size() - 1)(random);
    if (second != first_given) given.emplace_back(json::string(kGivenNames[second]));
  }
  const std::string_view family = Pick(random, kFamilyNames);

  const int year = Between(random, 1930, 2024);
  const int month = Between(random, 1, 12);
  const int day = Between(random, 1, DaysIn(year, month));
  const std::string birth_date = fmt::format("{:04}-{:02}-{:02}", year, month, day);

  // NIR: sex, year, month, place of birth (department and commune, or 99 and a country),
  // order number, then the check key.
  const Place& home = Pick(random, kPlaces);
  const Place& birth_place = Pick(random, kPlaces);
  std::string place;
  if (Between(random, 0, 11) == 0) {
    place = fmt::format("99{}", Pick(random, kCountries));
  } else if (birth_place.department.size() == 3) {
    place = fmt::format("{}{:02}", birth_place.department, Between(random, 1, 24));
  } else {
    place = fmt::format("{}{:03}", birth_place.department, Between(random, 1, 400));
  }
  const std::string body = fmt::format("{}{:02}{:02}{}{:03}", female ? 2 : 1, year % 100, month,
                                       place, Between(random, 1, 999));
  auto key = NirKey(body);
  if (!key) std::abort();  // the body above is always well-formed
  const std::string nir = fmt::format("{}{:02}", body, *key);
  if (!CanonicalNir(nir)) std::abort();

  const std::string phone =
      Between(random, 0, 3) == 0
          ? fmt::format("+33 {} {:02} {:02} {:02} {:02}", Between(random, 6, 7),
                        Between(random, 0, 99), Between(random, 0, 99), Between(random, 0, 99),
                        Between(random, 0, 99))
          : fmt::format("0{} {:02} {:02} {:02} {:02}", Between(random, 6, 7),
                        Between(random, 0, 99), Between(random, 0, 99), Between(random, 0, 99),
                        Between(random, 0, 99));
  const std::string email =
      fmt::format("{}.{}{}@{}", MailPart(kGivenNames[first_given]), MailPart(family),
                  Between(random, 0, 2) == 0 ? fmt::format("{}", Between(random, 1, 99)) : "",
                  Pick(random, kMailDomains));

  json::object patient{
      {"resourceType", "Patient"},
      {"id", id},
      {"meta", json::object{{"profile", json::array{"https://interop.esante.gouv.fr/ig/fhir/"
                                                    "ins/StructureDefinition/FrPatientINS"}}}},
      {"identifier",
       json::array{json::object{{"use", "official"}, {"system", kInsNirSystem}, {"value", nir}},
                   json::object{{"use", "usual"},
                                {"system", "urn:oid:1.2.250.1.71.4.2.7"},
                                {"value", fmt::format("IPP{:09}", n)}}}},
      {"active", true},
      {"name",
       json::array{json::object{{"use", "official"}, {"family", family}, {"given", given}}}},
      {"telecom",
       json::array{json::object{{"system", "phone"}, {"value", phone}, {"use", "mobile"}},
                   json::object{{"system", "email"}, {"value", email}}}},
      {"gender", female ? "female" : "male"},
      {"birthDate", birth_date},
      {"address",
       json::array{json::object{{"use", "home"},
                                {"line", json::array{fmt::format("{} {}", Between(random, 1, 180),
                                                                 Pick(random, kStreets))}},
                                {"city", home.city},
                                {"postalCode", home.postal_code},
                                {"country", "FR"}}}},
      {"communication",
       json::array{json::object{
           {"language",
            json::object{{"coding", json::array{json::object{{"system", "urn:ietf:bcp:47"},
                                                             {"code", "fr-FR"}}}}}},
           {"preferred", true}}}},
  };
  return {std::move(id), std::string(family), json::serialize(patient)};
}

}  // namespace medvault::bench
