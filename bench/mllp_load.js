// MLLP load for bench/run-lab: CONNECTIONS connections to 127.0.0.1:PORT, each sending its
// share of MESSAGES ORU^R01 messages of 20 OBX, one at a time (MLLP waits for each ACK), every
// message with its own control id and order number, PATIENTS distinct patients in turn.
// Prints one JSON line: messages, seconds, messages_per_second, acks by code, latency p50/p99.
//   node bench/mllp_load.js PORT MESSAGES CONNECTIONS PATIENTS
const net = require('net');
const [port, total, connections, patients] = process.argv.slice(2).map(Number);
const VT = '\x0b';
const END = '\x1c\r';
const run = Date.now().toString(36);

const analytes = [
  ['6690-2', 'Leukocytes', '10*9/L', '4.0-10.0'], ['789-8', 'Erythrocytes', '10*12/L', '4.2-5.4'],
  ['718-7', 'Hemoglobin', 'g/dL', '12.0-16.0'], ['4544-3', 'Hematocrit', '%', '37-47'],
  ['787-2', 'MCV', 'fL', '80-100'], ['785-6', 'MCH', 'pg', '27-33'],
  ['786-4', 'MCHC', 'g/dL', '32-36'], ['777-3', 'Platelets', '10*9/L', '150-400'],
  ['770-8', 'Neutrophils', '%', '40-75'], ['736-9', 'Lymphocytes', '%', '20-45'],
  ['5905-5', 'Monocytes', '%', '2-10'], ['713-8', 'Eosinophils', '%', '0-6'],
  ['706-2', 'Basophils', '%', '0-2'], ['2345-7', 'Glucose', 'g/L', '0.70-1.10'],
  ['2160-0', 'Creatinine', 'mg/L', '6-12'], ['3094-0', 'Urea', 'g/L', '0.15-0.45'],
  ['2951-2', 'Sodium', 'mmol/L', '135-145'], ['2823-3', 'Potassium', 'mmol/L', '3.5-5.0'],
  ['2075-0', 'Chloride', 'mmol/L', '98-107'], ['1988-5', 'CRP', 'mg/L', '<5'],
];

function message(n) {
  const patient = n % patients;
  const segments = [
    `MSH|^~\\&|GLIMS|LBM-BENCH|MEDVAULT|CLINIQUE|20261203081500+0100||ORU^R01^ORU_R01|B${run}-${n}|P|2.5`,
    `PID|1||P${patient}^^^LBM-BENCH^PI||Bench${patient}^Alice||19700101|F`,
    'ORC|RE||||||||||||10003456789^Martin^Camille^^^Dr^^^RPPS&1.2.250.1.71.4.2.1&ISO',
    `OBR|1||F${run}-${n}|58410-2^CBC panel^LN|||20261203073000+0100||||||||||||||||||P`,
  ];
  analytes.forEach(([code, name, unit, range], i) => {
    const value = (5 + ((n + i) % 50) / 10).toFixed(1);
    segments.push(`OBX|${i + 1}|NM|${code}^${name}^LN||${value}|${unit}^${unit}^UCUM|${range}|N|||P`);
  });
  return VT + segments.join('\r') + '\r' + END;
}

let next = 0;
const codes = {};
const latencies = [];
const started = process.hrtime.bigint();

function worker() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => send());
    let buffer = '';
    let sentAt = 0n;
    function send() {
      if (next >= total) { socket.end(); return resolve(); }
      const n = next++;
      sentAt = process.hrtime.bigint();
      socket.write(message(n));
    }
    socket.on('data', (chunk) => {
      buffer += chunk.toString();
      const end = buffer.indexOf(END);
      if (end < 0) return;
      const ack = buffer.slice(1, end);
      buffer = buffer.slice(end + 2);
      latencies.push(Number(process.hrtime.bigint() - sentAt) / 1e6);
      const code = (ack.split('\r').find((s) => s.startsWith('MSA|')) || 'MSA|??').split('|')[1];
      codes[code] = (codes[code] || 0) + 1;
      send();
    });
    socket.on('error', reject);
  });
}

Promise.all(Array.from({ length: connections }, worker)).then(() => {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const at = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
  process.stdout.write(JSON.stringify({
    messages: latencies.length, seconds: Number(seconds.toFixed(2)),
    messages_per_second: Math.round(latencies.length / seconds), acks: codes,
    p50_ms: Number(at(0.5).toFixed(1)), p99_ms: Number(at(0.99).toFixed(1)),
  }) + '\n');
}, (error) => { process.stderr.write(`${error}\n`); process.exit(1); });
