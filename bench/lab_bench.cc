// The HL7 side of the lab feed alone, without the store: parsing a 20-OBX ORU^R01, mapping it
// to its transaction Bundle, reading that as the FHIR API does, and building the ACK
// (bench/run-lab compares it with the end-to-end figure). And the PDF report of a 60-result
// DiagnosticReport (two pages, tests/lab/report_pdf_fixture.h), made in memory with libharu.
#include <benchmark/benchmark.h>

#include <chrono>
#include <string>

#include "fhir/bundle.h"
#include "lab/ack.h"
#include "lab/hl7.h"
#include "lab/oru.h"
#include "lab/report_pdf.h"
#include "report_pdf_fixture.h"

namespace {

using namespace medvault::lab;

std::string Message() {
  std::string text =
      "MSH|^~\\&|GLIMS|LBM-BENCH|MEDVAULT|CLINIQUE|20261203081500+0100||ORU^R01^ORU_R01|B-1|P|"
      "2.5\rPID|1||P1^^^LBM-BENCH^PI||Bench^Alice||19700101|F\r"
      "ORC|RE||||||||||||10003456789^Martin^Camille^^^Dr^^^RPPS&1.2.250.1.71.4.2.1&ISO\r"
      "OBR|1||F-1|58410-2^CBC panel^LN|||20261203073000+0100||||||||||||||||||P\r";
  for (int i = 1; i <= 20; ++i) {
    text += "OBX|" + std::to_string(i) + "|NM|718-" + std::to_string(i) +
            "^Analyte^LN||5." + std::to_string(i % 10) + "|g/dL^g/dL^UCUM|4.0-10.0|N|||P\r";
  }
  return text;
}

void BM_ParseMapAck(benchmark::State& state) {
  const std::string text = Message();
  const medvault::Timestamp at{std::chrono::seconds(1'796'285'730)};
  for (auto _ : state) {
    auto message = Message::Parse(text);
    auto header = ReadHeader(*message);
    auto bundle = MapOru(*message, *header);
    auto incoming = medvault::fhir::ParseBundle(*bundle);
    benchmark::DoNotOptimize(incoming);
    std::string ack = BuildAck(*header, AckCode::kAccept, nullptr, "ACK-1", at);
    benchmark::DoNotOptimize(ack);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseMapAck);

void BM_RenderTwoPageReport(benchmark::State& state) {
  const testing::TwoPageReport fixture;
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto pdf = RenderReportPdf(fixture.Content());
    if (!pdf) {
      state.SkipWithError(pdf.error().message().c_str());
      return;
    }
    bytes = pdf->size();
    benchmark::DoNotOptimize(pdf);
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["pdf_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_RenderTwoPageReport)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
