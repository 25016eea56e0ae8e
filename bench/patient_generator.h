// Synthetic French patients for the store benchmark: FHIR Patient JSON with accented names
// drawn from a few hundred family names and given names, a birth date, an INS-NIR with a
// valid check key (core/french_ids.h) consistent with sex, birth date and birth place, a
// hospital number (IPP), a phone number, an email address and a postal address.
//
// Patient n is a pure function of (seed, n), so a benchmark can make new patients beyond the
// ones a store already holds without remembering anything. Every family name is about as
// frequent as every other (a uniform draw): at 1,000,000 patients each one is held by
// roughly 1,000,000 / FamilyNames().size() patients, about as many as "Martin", the most
// frequent French family name, has in a French population of that size.
// Not thread-safe: one generator per thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace medvault::bench {

struct GeneratedPatient {
  std::string id;      // also the patient id: "p0000042"
  std::string family;  // as written in the JSON, accents included
  std::string json;    // FHIR Patient
};

class PatientGenerator {
 public:
  explicit PatientGenerator(std::uint64_t seed) : seed_(seed) {}

  // Patient number `n`, with id PatientId(n).
  GeneratedPatient Make(std::uint64_t n) const { return Make(n, PatientId(n)); }
  // The content of patient number `n` under another id.
  GeneratedPatient Make(std::uint64_t n, std::string id) const;

  static std::string PatientId(std::uint64_t n);
  static std::span<const std::string_view> FamilyNames();
  static std::span<const std::string_view> GivenNames();

 private:
  std::uint64_t seed_;
};

}  // namespace medvault::bench
