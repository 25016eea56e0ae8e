// The made-up clinical content of `medvault demo`, as FHIR R4 JSON: a medical laboratory and a
// clinic (Organization), their staff (Practitioner with RPPS identifiers, PractitionerRole),
// and for each patient several years of care: lab visits (Encounter) with their reports
// (DiagnosticReport with LOINC panel codes and an accession number) and results (Observation
// with LOINC codes, UCUM units, reference ranges and H/L interpretations), the conditions the
// results reflect (Condition), prescriptions (MedicationRequest with ATC codes and dosage),
// allergies (AllergyIntolerance), the lab's PDF reports of the record's last year (Binary,
// described by a DocumentReference and presented by the visit's reports), GP consultations
// (Encounter) with their notes (DocumentReference, text inline in base64) and a care team
// with the patient's GP (CareTeam).
//
// Values follow each patient's physiology: a baseline per analyte, the drift of their
// conditions over the years and the effect of their treatments, so the results tell a story
// (a diabetic's HbA1c climbing, then falling once metformin starts). Every reference points to
// a resource of the same output. Nothing here is real data.
//
// Deterministic: the same inputs give the same resources, ids included (ids are UUIDs drawn
// from the seed, so they look like the server's random ones). Thread-safe: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medvault::cli {

// One resource to write: its type, id, the patient it belongs to (empty for the directory)
// and its JSON.
struct DemoResource {
  std::string resource_type;
  std::string id;
  std::string patient_id;
  std::string json;
};

// A made-up person: the fields a Patient and its NIR are made from.
struct DemoPerson {
  std::string family;
  std::string given;
  int sex = 1;  // 1 male, 2 female (the NIR's first digit)
  int year = 1984, month = 12, day = 3;
  std::string department = "75";
  int serial = 1;
  // The patient the demo shows first: always has a treated chronic condition and an allergy,
  // so every kind of record appears in their file.
  bool showcase = false;
};

// The NIR of a person (birth sex, year, month, department, then commune and order numbers
// from the serial), with its check key.
std::string DemoNir(const DemoPerson& person);

// The last day of the demo record (ISO date): results and notes reach up to it. Fixed so the
// demo is the same whenever it is made.
inline constexpr std::string_view kDemoRecordEnd = "2026-11-20";

// The lab, the clinic, their staff and their roles. The ids in the named members point into
// `resources`.
struct DemoDirectory {
  std::vector<DemoResource> resources;
  std::string lab_id;
  std::string clinic_id;
  std::vector<std::string> general_practitioner_ids;  // the first is Dr Camille Martin
  std::vector<std::string> biologist_ids;
  std::vector<std::string> biologist_role_ids;  // their PractitionerRole at the lab
  std::string nurse_id;
};
DemoDirectory MakeDemoDirectory();

// One patient's record: the Patient first (id `patient_id`), then everything else, all with
// patient_id set. `seed` decides their conditions, visits and values; `general_practitioner`
// indexes directory.general_practitioner_ids.
std::vector<DemoResource> MakeDemoPatientRecord(const DemoDirectory& directory,
                                                const DemoPerson& person,
                                                const std::string& patient_id,
                                                std::size_t general_practitioner,
                                                std::uint64_t seed);

// A small, fixed pseudo-random sequence (SplitMix64): the demo must be the same every time.
class DemoSequence {
 public:
  explicit DemoSequence(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::size_t Below(std::size_t bound) { return static_cast<std::size_t>(Next() % bound); }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool Chance(double probability) { return Uniform() < probability; }
  double Normal();  // mean 0, standard deviation 1
  // A UUID with the version 4 layout: a deterministic id that looks like NewResourceId()'s.
  std::string Uuid();

 private:
  std::uint64_t state_;
};

}  // namespace medvault::cli
