/**
 * A self-contained `llama` (SentencePiece-style) vocabulary for synthetic models.
 *
 * Layout, as in real llama vocabularies: `<unk>`=0, `<s>`=1, `</s>`=2, `<|im_start|>`=3, `<|im_end|>`=4 (EOS),
 * 256 byte-fallback tokens `<0x00>`..`<0xFF>`, then word pieces with the SPM space marker "▁" and decreasing scores.
 * The pieces are prefix-closed (every prefix of a piece is a piece), so llama.cpp's SPM merge rule, which only
 * merges adjacent symbols whose concatenation is in the vocabulary, can reach every piece from single characters.
 * The vocabulary depends only on its size: a target and a draft built with the same size share it exactly.
 */
import { Rng } from "./prng.js";

export const SPACE = "\u2581"; // "▁"
export const SPECIAL_TOKENS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"] as const;
export const UNK_ID = 0;
export const BOS_ID = 1;
export const EOS_ID = 4;
export const BYTE_TOKENS_START = SPECIAL_TOKENS.length;
export const FIRST_PIECE_ID = BYTE_TOKENS_START + 256;
export const DEFAULT_VOCAB_SIZE = 32000;
export const MIN_VOCAB_SIZE = 512;

/** llama.cpp `llama_token_type`. */
export const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

/** ChatML, exactly as the shared models carry it, so node-llama-cpp resolves its ChatML wrapper. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface Vocabulary {
  tokens: string[];
  scores: Float32Array;
  tokenTypes: Int32Array;
  /** Ids from here up are word pieces (normal tokens): the only tokens a synthetic model ever predicts. */
  firstPieceId: number;
}

const CHARACTERS = [
  SPACE,
  ..."etaoinshrdlcumwfgypbvkjxqz",
  ..."ETAOINSHRDLCUMWFGYPBVKJXQZ",
  ..."0123456789",
  ...".,'\"-?!:;()[]/&%$#*+=<>@_~`|{}^\\",
];

// Common English words: most of the vocabulary's readable pieces. Each appears with the space marker (a word start),
// and the frequent ones also capitalised and bare (as a word-internal piece).
const WORDS = (
  "the of and to in is was that for it with as his on be at by he had this not are but from or have an they which " +
  "one you were her all she there would their we him been has when who will more no if out so said what up its about " +
  "into than them can only other new some could time these two may then do first any my now such like our over man " +
  "me even most made after also did many before must through back years where much your way well down should because " +
  "each just those people how too little state good very make world still own see men work long get here between both " +
  "life being under never day same another know while last might us great old year off come since against go came " +
  "right used take three states himself few house use during without again place american around however home small " +
  "found thought went say part once general high upon school every does got united left number course war until " +
  "always away something fact though water less public put think almost hand enough far took head yet government " +
  "system better set told nothing night end why called didn eyes find going look asked later knew point next city " +
  "give group toward young let room side social given present several order national possible rather second face " +
  "per among form important often things looked early white john case become large big need four within felt along " +
  "children saw best church ever least power development light thing seemed family interest want members mind country " +
  "area others done turned although open god service certain kind problem began different door thus help sense means " +
  "whole matter perhaps itself york times law human line above name example action company hands local show whether " +
  "five history gave today either act feet across taken past quite anything having seen death experience body word " +
  "half really week field car words already themselves information tell together college shall money period held " +
  "keep sure probably free seems political real behind cannot miss question air office making brought whose special " +
  "heard major problems ago became federal moment study available known result street economic boy position reason " +
  "change south board individual job areas society west close turn love community true court force full seem policy " +
  "wife future age voice center woman control common necessary following front sometimes six girl clear further land " +
  "able feel mother music party provide university effect level stood military town short run private top figure " +
  "ready river stone garden morning evening summer winter spring bright quiet gentle stream forest mountain valley " +
  "ocean island bridge window paper letter story song dream silver golden green blue red black yellow orange purple " +
  "quick slow warm cold soft hard sweet bitter happy sad calm wild simple strange ancient modern tiny huge narrow wide"
).split(" ");

const SUFFIXES = ["s", "ed", "ing", "er", "est", "ly", "tion", "ment", "ness", "able", "ful", "less", "ous", "ive", "al", "ity", "es", "ers"];

const ONSETS = ["b", "c", "d", "f", "g", "h", "j", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w", "z", "br", "ch", "cl", "cr", "dr", "fl", "fr", "gl", "gr", "pl", "pr", "sh", "sl", "sp", "st", "str", "th", "tr", ""];
const VOWELS = ["a", "e", "i", "o", "u", "ai", "ea", "ee", "oo", "ou", "io", "y"];
const CODAS = ["", "", "", "n", "r", "s", "t", "l", "m", "nd", "st", "rk", "ng", "ck", "th", "x"];

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/** Pronounceable pseudo-words, in a fixed order (a constant seed: the vocabulary must not depend on the model seed). */
function* pseudoWords(): Generator<string> {
  const rng = new Rng(0x70c0, 1);
  const pick = <T>(list: readonly T[]) => list[rng.below(list.length)];
  for (;;) {
    const syllables = 1 + rng.below(3);
    let word = "";
    for (let s = 0; s < syllables; s++) word += pick(ONSETS) + pick(VOWELS) + pick(CODAS);
    if (word.length >= 2) yield word;
  }
}

/** Candidate pieces in priority order (most common first). */
function* candidatePieces(): Generator<string> {
  for (const w of WORDS) yield SPACE + w;
  for (const w of WORDS.slice(0, 200)) yield SPACE + capitalise(w);
  for (const s of SUFFIXES) yield s;
  for (const w of WORDS.slice(0, 300)) yield w;
  for (const w of WORDS) for (const s of SUFFIXES.slice(0, 4)) yield SPACE + w + s;
  for (const w of pseudoWords()) {
    yield SPACE + w;
    if (w.length > 3) yield w;
  }
}

export function buildVocabulary(size = DEFAULT_VOCAB_SIZE): Vocabulary {
  if (!Number.isInteger(size) || size < MIN_VOCAB_SIZE) throw new Error(`vocabulary size must be an integer >= ${MIN_VOCAB_SIZE}`);
  const tokens: string[] = [...SPECIAL_TOKENS];
  for (let b = 0; b < 256; b++) tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const seen = new Set<string>(tokens);
  const add = (piece: string) => {
    if (tokens.length < size && !seen.has(piece)) {
      seen.add(piece);
      tokens.push(piece);
    }
  };
  for (const c of CHARACTERS) add(c);
  for (const piece of candidatePieces()) {
    if (tokens.length >= size) break;
    // Prefix closure: "▁the" needs "▁t" and "▁th" before it (characters are already in).
    const chars = [...piece];
    for (let n = 2; n <= chars.length; n++) add(chars.slice(0, n).join(""));
  }
  const scores = new Float32Array(size);
  const tokenTypes = new Int32Array(size);
  for (let id = 0; id < size; id++) {
    if (id < BYTE_TOKENS_START) tokenTypes[id] = id === UNK_ID ? TokenType.UNKNOWN : TokenType.CONTROL;
    else if (id < FIRST_PIECE_ID) tokenTypes[id] = TokenType.BYTE;
    else {
      tokenTypes[id] = TokenType.NORMAL;
      // SPM merges the highest-scoring pair first: earlier (more common, shorter) pieces win.
      scores[id] = -(id - FIRST_PIECE_ID);
    }
  }
  return { tokens, scores, tokenTypes, firstPieceId: FIRST_PIECE_ID };
}
