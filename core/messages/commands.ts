import type { Catalog } from './types.ts';

/** Replies to chat commands (webhooks/commands/). */
export const COMMAND_MESSAGES = {
  helpTitle: {
    en: 'Signoff commands',
    'zh-Hans': 'Signoff 指令',
    'zh-Hant': 'Signoff 指令',
    ja: 'Signoff コマンド',
  },
  unknownText: {
    en: 'I did not understand that. Here is what I can do:',
    'zh-Hans': '没有看懂这条消息。我可以做这些：',
    'zh-Hant': '沒有看懂這則訊息。我可以做這些：',
    ja: 'よく分かりませんでした。できることは次のとおりです：',
  },
  unknownUser: {
    en: 'I do not know you yet. Ask an admin to add your id to signoff.config.json: ',
    'zh-Hans': '还不认识你。请管理员把你的 ID 加到 signoff.config.json：',
    'zh-Hant': '還不認識你。請管理員把你的 ID 加到 signoff.config.json：',
    ja: 'まだ登録されていません。管理者に signoff.config.json へ次の ID を追加してもらってください：',
  },
  noApprovals: {
    en: 'Nothing is waiting for your decision.',
    'zh-Hans': '没有等待你审批的请求。',
    'zh-Hant': '沒有等待你審批的請求。',
    ja: 'あなたの判断を待つリクエストはありません。',
  },
  pendingTitle: {
    en: 'Waiting for your decision',
    'zh-Hans': '等待你审批',
    'zh-Hant': '等待你審批',
    ja: 'あなたの判断待ち',
  },
  notFound: {
    en: 'No request with that id.',
    'zh-Hans': '找不到这个 ID 的请求。',
    'zh-Hant': '找不到這個 ID 的請求。',
    ja: 'その ID のリクエストはありません。',
  },
  needId: {
    en: 'Which one? Add its id.',
    'zh-Hans': '请加上 ID。',
    'zh-Hant': '請加上 ID。',
    ja: 'ID を付けてください。',
  },
  notYours: {
    en: 'Only the person who asked can cancel a request.',
    'zh-Hans': '只有提出请求的人可以取消。',
    'zh-Hant': '只有提出請求的人可以撤回。',
    ja: 'リクエストを取り下げられるのは依頼した本人だけです。',
  },
  cancelled: { en: 'Cancelled:', 'zh-Hans': '已取消：', 'zh-Hant': '已撤回：', ja: '取り下げました：' },
  notPending: {
    en: 'It is no longer waiting:',
    'zh-Hans': '已经不在等待中：',
    'zh-Hant': '已經不在等待中：',
    ja: 'すでに待機中ではありません：',
  },
  nudged: {
    en: 'Reminded:',
    'zh-Hans': '已提醒：',
    'zh-Hant': '已提醒：',
    ja: '次の人に知らせました：',
  },
  nudgeNotYours: {
    en: 'Only the person who asked can nudge the approvers.',
    'zh-Hans': '只有提出请求的人可以催办。',
    'zh-Hant': '只有提出請求的人可以催辦。',
    ja: '催促できるのは依頼した本人だけです。',
  },
  nudgeTooSoon: {
    en: 'The approvers were reminded less than 15 minutes ago. Try again after',
    'zh-Hans': '15 分钟内已经催办过。请在此时间之后再试：',
    'zh-Hant': '15 分鐘內已經催辦過。請在此時間之後再試：',
    ja: '15 分以内に催促済みです。次の時刻以降にもう一度どうぞ：',
  },
  alreadyRequested: {
    en: 'Already requested with this button:',
    'zh-Hans': '这个按钮已经提交过请求：',
    'zh-Hant': '這個按鈕已經提交過請求：',
    ja: 'このボタンからはすでに依頼済みです：',
  },
  requestReceived: {
    en: 'This request was already received: {id}',
    'zh-Hans': '这个请求已经收到：{id}',
    'zh-Hant': '這個請求已經收到：{id}',
    ja: 'この依頼はすでに受け付けています：{id}',
  },
  lineUnknownButton: {
    en: 'That button is not one I recognise (it may come from an older message). Nothing was changed. Type "help" to see what I can do.',
    'zh-Hans': '无法识别这个按钮（可能来自较早的消息）。没有做任何更改。发送「帮助」查看我能做什么。',
    'zh-Hant': '無法辨識這個按鈕（可能來自較早的訊息）。沒有做任何變更。傳送「幫助」查看我能做什麼。',
    ja: 'このボタンは認識できません（古いメッセージのものかもしれません）。何も変更していません。「ヘルプ」と送るとできることが分かります。',
  },
  lineNoUserId: {
    en: 'LINE did not tell me who you are, so I cannot act on this. Please message me once in a 1:1 chat (add me as a friend), then try again.',
    'zh-Hans':
      'LINE 没有告诉我你是谁，所以无法处理。请先在一对一聊天中给我发一条消息（加我为好友），然后再试一次。',
    'zh-Hant':
      'LINE 沒有告訴我你是誰，所以無法處理。請先在一對一聊天中傳一則訊息給我（加我為好友），然後再試一次。',
    ja: 'LINE からあなたが誰か知らされなかったため、処理できません。1 対 1 のトークで一度メッセージを送って（友だち追加して）から、もう一度お試しください。',
  },
  lineJoinedGroup: {
    en: 'Hello! This group\'s LINE id is {id}. To send approval cards here, add it to policies.<kind>.chats.line in signoff.config.json. Mention me with "help" to see what I can do.',
    'zh-Hans':
      '你好！这个群组的 LINE ID 是 {id}。要把审批卡片发到这里，请把它加到 signoff.config.json 的 policies.<kind>.chats.line。@我 并发送「帮助」查看我能做什么。',
    'zh-Hant':
      '你好！這個群組的 LINE ID 是 {id}。要把審批卡片傳到這裡，請把它加到 signoff.config.json 的 policies.<kind>.chats.line。@我 並傳送「幫助」查看我能做什麼。',
    ja: 'こんにちは！このグループの LINE ID は {id} です。ここに承認カードを送るには、signoff.config.json の policies.<kind>.chats.line に追加してください。私をメンションして「ヘルプ」と送るとできることが分かります。',
  },
  lineJoinedRoom: {
    en: 'Hello! This room\'s LINE id is {id}. To send approval cards here, add it to policies.<kind>.chats.line in signoff.config.json. Mention me with "help" to see what I can do.',
    'zh-Hans':
      '你好！这个聊天室的 LINE ID 是 {id}。要把审批卡片发到这里，请把它加到 signoff.config.json 的 policies.<kind>.chats.line。@我 并发送「帮助」查看我能做什么。',
    'zh-Hant':
      '你好！這個聊天室的 LINE ID 是 {id}。要把審批卡片傳到這裡，請把它加到 signoff.config.json 的 policies.<kind>.chats.line。@我 並傳送「幫助」查看我能做什麼。',
    ja: 'こんにちは！このトークルームの LINE ID は {id} です。ここに承認カードを送るには、signoff.config.json の policies.<kind>.chats.line に追加してください。私をメンションして「ヘルプ」と送るとできることが分かります。',
  },
  lineFollowed: {
    en: 'Hello! Your LINE user id is {id}. An admin adds it as users.<you>.line in signoff.config.json. Type "help" to see what I can do.',
    'zh-Hans':
      '你好！你的 LINE 用户 ID 是 {id}。请管理员把它加到 signoff.config.json 的 users.<你>.line。发送「帮助」查看我能做什么。',
    'zh-Hant':
      '你好！你的 LINE 使用者 ID 是 {id}。請管理員把它加到 signoff.config.json 的 users.<你>.line。傳送「幫助」查看我能做什麼。',
    ja: 'こんにちは！あなたの LINE ユーザー ID は {id} です。管理者が signoff.config.json の users.<あなた>.line に追加します。「ヘルプ」と送るとできることが分かります。',
  },
  approversNeeded: {
    en: '{names} ({n} needed)',
    'zh-Hans': '{names}（{n} 人需批准）',
    'zh-Hant': '{names}（{n} 人需批准）',
    ja: '{names}（{n} 人の承認が必要）',
  },
} satisfies Catalog;
